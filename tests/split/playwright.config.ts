// The split release build's own check (`make build-split`, then
// `make test-split`): the same browser settings as the e2e tests.
import { defineConfig } from '@playwright/test';

import base from '../e2e/playwright.config';

export default defineConfig({ ...base, testDir: '.' });
