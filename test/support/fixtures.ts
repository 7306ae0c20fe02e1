import path from 'node:path';

/** The check-data document recorded from the agent on Debian 12 (test/fixtures/checkdata). */
export const CHECKDATA_FIXTURE = path.join(
  import.meta.dirname,
  '..',
  'fixtures',
  'checkdata',
  'debian12.json',
);
