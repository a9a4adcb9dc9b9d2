import { measureBytes } from '../media.js';
import type { Probe } from '../model.js';
import { fetchUpstream, type FetchOptions } from './fetch.js';

/** The first bytes of a file are enough for its type and pixel size. */
const HEAD_BYTES = 64 * 1024;

function totalSize(headers: Headers, status: number, received: number, truncated: boolean): number | null {
  const range = /\/(\d+)\s*$/.exec(headers.get('content-range') ?? '');
  if (range) return Number(range[1]);
  const length = Number(headers.get('content-length'));
  if (status === 200 && Number.isFinite(length) && length > 0) return length;
  return truncated ? null : received;
}

/**
 * Measures a remote file from its first 64 KB (a ranged GET): the MIME type from its signature,
 * the pixel size from its header, the byte size from Content-Range or Content-Length. Never throws:
 * a failed probe is returned with its error so that it is not retried on every refresh.
 */
export async function probeUrl(url: string, options: Pick<FetchOptions, 'userAgent' | 'timeoutMs'>): Promise<Probe> {
  try {
    const result = await fetchUpstream(url, {
      ...options,
      retries: 1,
      maxBytes: HEAD_BYTES,
      truncate: true,
      headers: { Range: `bytes=0-${HEAD_BYTES - 1}` },
    });
    const measured = await measureBytes(result.bytes);
    const claimed = result.contentType?.split(';')[0]?.trim().toLowerCase() || null;
    return {
      mime: measured.mime ?? claimed,
      bytes: totalSize(result.headers, result.status, result.bytes.length, result.truncated),
      width: measured.width,
      height: measured.height,
      error: null,
    };
  } catch (error) {
    return { mime: null, bytes: null, width: null, height: null, error: (error as Error).message };
  }
}
