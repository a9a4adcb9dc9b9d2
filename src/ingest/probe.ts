import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeHTML } from 'entities';
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
export async function probeUrl(url: string, options: Pick<FetchOptions, 'userAgent' | 'timeoutMs' | 'signal' | 'fetch'>): Promise<Probe> {
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

/** Raster images Herold keeps a copy of; SVG is left out, as a script in it would run on Herold's origin. */
const MIRRORED: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'image/avif': 'avif',
};

/** A remote image is copied whole up to this size; a larger one is only linked. */
const MIRROR_MAX_BYTES = 20 * 1024 * 1024;

/**
 * Measures a remote image from its whole body and keeps a copy under `folder` (served as
 * /media/remote/…), so that pages and feeds make no request to the upstream's server. The name is
 * a hash of the URL: the same image is stored once. Anything but a raster image is probed instead.
 * Never throws.
 */
export async function mirrorImage(url: string, options: Pick<FetchOptions, 'userAgent' | 'timeoutMs' | 'signal' | 'fetch'>, folder: string): Promise<Probe> {
  try {
    const result = await fetchUpstream(url, { ...options, retries: 1, maxBytes: MIRROR_MAX_BYTES });
    const measured = await measureBytes(result.bytes);
    const extension = measured.mime ? MIRRORED[measured.mime] : undefined;
    if (!extension) return await probeUrl(url, options);
    const name = `${createHash('sha256').update(url).digest('hex').slice(0, 32)}.${extension}`;
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, name), result.bytes);
    return { ...measured, error: null, localUrl: `/media/remote/${name}` };
  } catch (error) {
    return { mime: null, bytes: null, width: null, height: null, error: (error as Error).message, localUrl: null };
  }
}

/**
 * Points every `<img src>` of sanitized HTML at Herold's copy; `mirror` gives the local path of a
 * URL, or null when there is none (the image keeps its source, which pages' CSP does not load).
 */
export async function mirrorBodyImages(html: string, mirror: (url: string) => Promise<string | null>): Promise<string> {
  const sources = [...new Set([...html.matchAll(/<img\b[^>]*?\ssrc="(https?:[^"]*)"/g)].map((match) => match[1]!))];
  let result = html;
  for (const source of sources) {
    const local = await mirror(decodeHTML(source));
    if (local) result = result.replaceAll(`src="${source}"`, `src="${local}"`);
  }
  return result;
}
