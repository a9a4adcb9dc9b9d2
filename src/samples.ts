import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Store } from './db/store.js';
import { measureFile, type Measured } from './media.js';
import type { Media, ReleaseInput } from './model.js';
import { checkReleaseObject, releaseInputFrom, type MediaObject, type ReleaseObject } from './release-object.js';

interface SampleFile extends ReleaseObject {
  guid: string;
  previous?: Partial<Pick<ReleaseObject, 'title' | 'subtitle' | 'body'>>;
  correction_note?: string;
}

/** Loads the sample releases shipped in `samplesDir` (JSON release objects), measuring their media in `mediaDir`. */
export async function loadSamples(store: Store, options: { samplesDir: string; mediaDir: string; baseUrl: string }): Promise<number> {
  const names = (await readdir(options.samplesDir)).filter((name) => name.endsWith('.json')).sort();
  const measured = new Map<string, Measured>();
  const samples: SampleFile[] = [];
  for (const name of names) {
    const file = path.join(options.samplesDir, name);
    const sample = JSON.parse(await readFile(file, 'utf8')) as SampleFile;
    const { previous, correction_note: _note, ...object } = sample;
    const errors = checkReleaseObject(object);
    if (errors.length || !sample.guid) {
      throw new Error(`samples: ${file}: ${errors.map((error) => `${error.pointer} ${error.detail}`).join('; ') || 'guid missing'}`);
    }
    for (const item of [sample.image, ...(sample.attachments ?? [])]) {
      if (item?.file && !measured.has(item.file)) measured.set(item.file, await measureFile(path.join(options.mediaDir, item.file)));
    }
    samples.push(sample);
  }
  const media = (item: MediaObject): Media => {
    const size = item.file ? measured.get(item.file) : undefined;
    return {
      url: item.file ? `/media/${item.file}` : item.url!,
      title: item.title ?? null, alt: item.alt ?? null, caption: item.caption ?? null, credit: item.credit ?? null,
      width: size?.width ?? null, height: size?.height ?? null, mime: size?.mime ?? null, bytes: size?.bytes ?? null,
    };
  };
  const toInput = (sample: SampleFile): ReleaseInput => {
    const { previous: _previous, correction_note: _note, ...object } = sample;
    return releaseInputFrom(object, { guid: sample.guid, sourceId: 'samples', baseUrl: options.baseUrl, media });
  };
  let count = 0;
  for (const sample of samples) {
    if (sample.previous) {
      // The version before its correction, as first published; the correction below records the revision.
      const original = { ...toInput({ ...sample, ...sample.previous }), updatedAt: null };
      store.upsertReleases([original], { now: new Date(sample.published_at) });
    }
    const at = sample.previous && sample.updated_at ? sample.updated_at : sample.published_at;
    const [result] = store.upsertReleases([toInput(sample)], { now: new Date(at), note: sample.correction_note ?? null });
    if (result?.outcome === 'new' || sample.previous) count++;
  }
  return count;
}
