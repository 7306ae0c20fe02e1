import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextCheckState, type CheckState } from '../src/telemetry/ingest/checks.js';

/** Runs a sequence of exit codes through the state machine (max 3 attempts). */
function run(
  codes: number[],
  max = 3,
): (Pick<CheckState, 'state' | 'stateType' | 'attempt' | 'hardState'> | 'same')[] {
  let s: CheckState | undefined;
  return codes.map((rc, i) => {
    const next = nextCheckState(
      s,
      { rc, at: (i + 1) * 1000, output: `rc ${rc}`, perfdata: '[]' },
      max,
    );
    if (!next) return 'same';
    s = next.state;
    return { state: s.state, stateType: s.stateType, attempt: s.attempt, hardState: s.hardState };
  });
}

for (const [name, codes, expected] of [
  [
    'OK stays hard OK',
    [0, 0],
    [
      { state: 0, stateType: 'hard', attempt: 1, hardState: 0 },
      { state: 0, stateType: 'hard', attempt: 1, hardState: 0 },
    ],
  ],
  [
    'a problem is soft until the third attempt, then hard',
    [0, 2, 2, 2, 2],
    [
      { state: 0, stateType: 'hard', attempt: 1, hardState: 0 },
      { state: 2, stateType: 'soft', attempt: 1, hardState: 0 },
      { state: 2, stateType: 'soft', attempt: 2, hardState: 0 },
      { state: 2, stateType: 'hard', attempt: 3, hardState: 2 },
      { state: 2, stateType: 'hard', attempt: 3, hardState: 2 },
    ],
  ],
  [
    'a soft problem that recovers never becomes hard',
    [0, 1, 0],
    [
      { state: 0, stateType: 'hard', attempt: 1, hardState: 0 },
      { state: 1, stateType: 'soft', attempt: 1, hardState: 0 },
      { state: 0, stateType: 'hard', attempt: 1, hardState: 0 },
    ],
  ],
  [
    'WARNING to CRITICAL while soft keeps counting',
    [0, 1, 2, 2],
    [
      { state: 0, stateType: 'hard', attempt: 1, hardState: 0 },
      { state: 1, stateType: 'soft', attempt: 1, hardState: 0 },
      { state: 2, stateType: 'soft', attempt: 2, hardState: 0 },
      { state: 2, stateType: 'hard', attempt: 3, hardState: 2 },
    ],
  ],
  [
    'a change between hard problems is a hard change at once',
    [2, 2, 2, 1],
    [
      { state: 2, stateType: 'soft', attempt: 1, hardState: 0 },
      { state: 2, stateType: 'soft', attempt: 2, hardState: 0 },
      { state: 2, stateType: 'hard', attempt: 3, hardState: 2 },
      { state: 1, stateType: 'hard', attempt: 3, hardState: 1 },
    ],
  ],
  [
    'exit codes outside 0–3 are UNKNOWN',
    [0, 7, 255],
    [
      { state: 0, stateType: 'hard', attempt: 1, hardState: 0 },
      { state: 3, stateType: 'soft', attempt: 1, hardState: 0 },
      { state: 3, stateType: 'soft', attempt: 2, hardState: 0 },
    ],
  ],
] as const)
  test(`check states: ${name}`, () => assert.deepEqual(run([...codes]), expected));

test('check states: with max_check_attempts 1 a problem is hard at once', () => {
  assert.deepEqual(run([0, 2], 1)[1], { state: 2, stateType: 'hard', attempt: 1, hardState: 2 });
});

test('check states: a repeated result (same execution time) is not an attempt', () => {
  const first = nextCheckState(undefined, { rc: 2, at: 5000, output: '', perfdata: '[]' }, 3)!;
  assert.equal(
    nextCheckState(first.state, { rc: 2, at: 5000, output: '', perfdata: '[]' }, 3),
    undefined,
  );
  assert.equal(
    nextCheckState(first.state, { rc: 2, at: 4000, output: '', perfdata: '[]' }, 3),
    undefined,
  );
});
