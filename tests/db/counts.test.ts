import { afterAll, beforeAll, expect, test } from 'vitest';
import { createApiStore, type ListQuery, type ListVisibility } from '../../src/db/api-store.js';
import type { Scope } from '../../src/db/store.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';

let t: TestApp;
beforeAll(() => {
  t = createTestApp();
});
afterAll(() => t.close());

/** The ids of the scope's visible releases, newest first, found the slow way: row by row. */
function bruteList(scope: Scope, now: Date): number[] {
  const visible = `r.status = 'published' AND (r.embargo_until IS NULL OR r.embargo_until <= @now)`;
  const sql = scope.kind === 'all' ? `SELECT r.id FROM releases r WHERE ${visible}`
    : scope.kind === 'department' ? `SELECT r.id FROM releases r WHERE r.department_id = @id AND ${visible}`
      : `SELECT r.id FROM release_topics rt JOIN releases r ON r.id = rt.release_id WHERE rt.topic_id = @id AND ${visible}`;
  return t.db.prepare(`${sql} ORDER BY r.published_at DESC, r.id DESC`).pluck().all({ now: now.toISOString(), id: 'id' in scope ? scope.id : null }) as number[];
}

/** The same count the slow way. */
const bruteCount = (scope: Scope, now: Date): number => bruteList(scope, now).length;

test('page counts kept by triggers, the counts of the topic and department lists, and the lists themselves equal a full reading through inserts, corrections, moves, withdrawals and embargoes', () => {
  const topics = ['Verkehr', 'Kultur', 'Umwelt', 'Bildung'];
  const departments = ['Fachbereich A', 'Fachbereich B', 'Fachbereich C'];
  // A fixed pseudo-random walk: every kind of change, in many orders.
  let seed = 42;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const now = new Date('2026-11-25T12:00:00Z');
  for (let step = 0; step < 400; step++) {
    const id = next(60);
    const chosen = topics.filter(() => next(2) === 0);
    t.store.upsertReleases([input({
      guid: `tag:lindenau.example,2026:count-${id}`,
      title: `Mitteilung ${id} Fassung ${next(3)}`,
      topics: chosen,
      department: next(4) === 0 ? null : departments[next(departments.length)]!,
      publishedAt: new Date(Date.UTC(2026, 0, 1) + id * 86_400_000).toISOString(),
      embargoUntil: next(5) === 0 ? new Date(now.getTime() + (next(3) - 1) * 3_600_000).toISOString() : null,
      status: next(6) === 0 ? 'withdrawn' : 'published',
    })], { now: new Date(now.getTime() - 1000 + step) });
    if (step % 20 === 19) {
      const scopes: Scope[] = [
        { kind: 'all' },
        ...t.store.listTopics(now).map((topic) => ({ kind: 'topic' as const, id: topic.id })),
        ...t.store.listDepartments(now).map((department) => ({ kind: 'department' as const, id: department.id })),
      ];
      for (const at of [now, new Date(now.getTime() + 7_200_000)]) {
        for (const scope of scopes) {
          expect(t.store.countReleases(scope, at), `${JSON.stringify(scope)} at step ${step}`).toBe(bruteCount(scope, at));
          // The lists show the same releases, in the same order, whole and from an offset.
          const ids = bruteList(scope, at);
          expect(t.store.newestReleaseHeads(scope, { now: at, limit: 100 }).map((head) => head.id), `${JSON.stringify(scope)} at step ${step}`).toEqual(ids);
          expect(t.store.newestReleases(scope, { now: at, limit: 7, offset: 5 }).map((release) => release.id)).toEqual(ids.slice(5, 12));
        }
        // The lists of topics and departments (the feeds directory, OPML, the pages' navigation) show the same counts.
        for (const topic of t.store.listTopics(at)) expect(topic.count, `topic ${topic.slug} at step ${step}`).toBe(bruteCount({ kind: 'topic', id: topic.id }, at));
        for (const department of t.store.listDepartments(at)) {
          expect(department.count, `department ${department.slug} at step ${step}`).toBe(bruteCount({ kind: 'department', id: department.id }, at));
        }
      }
    }
  }
  expect(bruteCount({ kind: 'all' }, now)).toBeGreaterThan(10);
});

test('the API lists of every state and filter (the public\'s, and a token holder\'s of all, published, embargoed, withdrawn) equal a full reading, page by page', () => {
  // The releases the walk above left: visible, embargoed until now or later, withdrawn, with and without topics and departments.
  const api = createApiStore(t.db, t.store);
  const now = new Date('2026-11-25T12:00:00Z');
  const rules: Record<ListVisibility, string> = {
    public: `r.status = 'published' AND (r.embargo_until IS NULL OR r.embargo_until <= @now)`,
    published: `r.status = 'published' AND (r.embargo_until IS NULL OR r.embargo_until <= @now)`,
    all: '1',
    embargoed: `r.status = 'published' AND r.embargo_until > @now`,
    withdrawn: `r.status = 'withdrawn'`,
  };
  const topics = t.db.prepare('SELECT id FROM topics').pluck().all() as number[];
  const departments = t.db.prepare('SELECT id FROM departments').pluck().all() as number[];
  const filters = [[null, null], ...topics.map((topic) => [topic, null]), ...departments.map((department) => [null, department]),
    ...topics.flatMap((topic) => departments.map((department) => [topic, department]))] as Array<[number | null, number | null]>;
  for (const [visibility, rule] of Object.entries(rules) as Array<[ListVisibility, string]>) {
    for (const [topicId, departmentId] of filters) {
      const want = t.db.prepare(`SELECT r.id FROM releases r WHERE ${rule}
        AND (@topic IS NULL OR r.id IN (SELECT release_id FROM release_topics WHERE topic_id = @topic))
        AND (@department IS NULL OR r.department_id = @department) ORDER BY r.published_at DESC, r.id DESC`)
        .pluck().all({ now: now.toISOString(), topic: topicId, department: departmentId }) as number[];
      // Walked by cursor, three at a time, as a client does.
      const got: number[] = [];
      let after: ListQuery['after'] = null;
      for (;;) {
        const { ids, total } = api.listReleaseIds({ visibility, topicId, departmentId, q: null, limit: 3, after }, now);
        const where = `${visibility}, topic ${topicId}, department ${departmentId}, after ${JSON.stringify(after)}`;
        expect(total, where).toBe(want.length);
        got.push(...ids.slice(0, 3));
        if (ids.length <= 3) break;
        const last = t.db.prepare('SELECT published_at AS publishedAt, id FROM releases WHERE id = ?').get(ids[2]) as { publishedAt: string; id: number };
        after = last;
      }
      expect(got, `${visibility}, topic ${topicId}, department ${departmentId}`).toEqual(want);
    }
  }
  // Each state is there to be listed.
  for (const state of ['embargoed', 'withdrawn'] as const) {
    expect(api.listReleaseIds({ visibility: state, topicId: null, departmentId: null, q: null, limit: 100, after: null }, now).total, state).toBeGreaterThan(0);
  }
});
