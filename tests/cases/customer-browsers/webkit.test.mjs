// The customer in WebKit (Debian's WebKitGTK MiniBrowser through WebKitWebDriver under Xvfb,
// classic WebDriver over HTTP, lib/webkit.mjs), the agent in Chromium: the live path, form typing
// and masking (suite.mjs).
import { customerBrowserSuite } from './suite.mjs';
import { useWebKitCustomer } from '../../lib/webkit.mjs';

customerBrowserSuite({
  name: 'customer-webkit',
  label: 'WebKit',
  useCustomer: useWebKitCustomer,
  userAgent: /AppleWebKit\/\d+/,
});
