import { readFile } from 'node:fs/promises';
import { fileTypeFromBuffer } from 'file-type';
import { imageSize } from 'image-size';

/** What is measured of a file: its MIME type from its bytes, its size, and pixel size for images. */
export interface Measured {
  readonly mime: string | null;
  readonly bytes: number;
  readonly width: number | null;
  readonly height: number | null;
}

/** Measures a file's bytes: the type from its signature (never its name), pixel size from its header. */
export async function measureBytes(bytes: Uint8Array): Promise<Measured> {
  const type = await fileTypeFromBuffer(bytes);
  let width: number | null = null;
  let height: number | null = null;
  if (type?.mime.startsWith('image/')) {
    try {
      const size = imageSize(bytes);
      width = size.width ?? null;
      height = size.height ?? null;
    } catch {
      // An image whose header image-size cannot read keeps its type and byte size.
    }
  }
  return { mime: type?.mime ?? null, bytes: bytes.length, width, height };
}

/** Measures a local file. */
export async function measureFile(file: string): Promise<Measured> {
  return measureBytes(await readFile(file));
}
