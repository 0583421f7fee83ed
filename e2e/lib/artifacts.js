// Test artefacts: screenshots (and the logs the processes write) under e2e/artifacts/.

import { artifact } from './paths.js';

/** Save a screenshot of a page or locator as e2e/artifacts/screenshots/`name`.png. */
export async function screenshot(target, name) {
  const file = artifact('screenshots', `${name}.png`);
  await target.screenshot({ path: file, animations: 'disabled' });
  return file;
}
