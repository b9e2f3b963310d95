// The customer in Firefox (Debian's firefox-esr over WebDriver BiDi with puppeteer-core,
// lib/firefox.mjs), the agent in Chromium: the live path, form typing and masking (suite.mjs).
import { customerBrowserSuite } from './suite.mjs';
import { useFirefoxCustomer } from '../../lib/firefox.mjs';

customerBrowserSuite({
  name: 'customer-firefox',
  label: 'Firefox',
  useCustomer: useFirefoxCustomer,
  userAgent: /Firefox\/\d+/,
});
