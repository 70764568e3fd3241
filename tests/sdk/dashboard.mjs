// The dashboard end to end, in headless Chromium, against a running Herald.
//
// Usage: node dashboard.mjs HERALD_URL WRITE_KEY EMAIL PASSWORD PREFIX SCREENSHOT_DIR
//
// Signs in, watches live events arrive while @segment/analytics-node sends a session, finds
// the profile by email and reads its timeline and identity graph, builds an audience in the
// text editor (an invalid rule first: the error is shown at its place), sees the preview, saves
// it and sees its members, edits it in the visual builder (a group included), runs a trend,
// saves it and finds it among the saved charts, runs a funnel, edits a template with its live
// preview, broadcasts it to the audience and watches the progress, adds a viewer in Settings, sees the
// overview's live charts, then signs in as the viewer, whose pages offer no change. A
// screenshot of each page goes
// to SCREENSHOT_DIR. Prints one JSON line with what the pages showed and how long the first
// load took; the Rust test `crates/herald/tests/dashboard_e2e.rs` checks it against the API.
// Every wait has a deadline; nothing sleeps a fixed time.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Analytics } from '@segment/analytics-node';

const [herald, writeKey, email, password, prefix, shots] = process.argv.slice(2);
const DEADLINE_MS = 20000;
fs.mkdirSync(shots, { recursive: true });

const report = { steps: [], consoleErrors: [], failedRequests: [], errorResponses: [] };
const browser = await chromium.launch({
  executablePath: process.env.HERALD_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.setDefaultTimeout(DEADLINE_MS);
page.on('console', (m) => m.type() === 'error' && report.consoleErrors.push(m.text()));
page.on('pageerror', (e) => report.consoleErrors.push(String(e)));
page.on('requestfailed', (r) => report.failedRequests.push(`${r.url()} ${r.failure()?.errorText}`));
page.on('response', (r) => {
  if (r.status() >= 400) report.errorResponses.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`);
});

async function step(name, run) {
  const started = Date.now();
  await run();
  await page.screenshot({ path: path.join(shots, `${String(report.steps.length + 1).padStart(2, '0')}-${name}.png`), fullPage: true });
  report.steps.push({ name, ms: Date.now() - started });
}

try {
  await step('sign-in', async () => {
    const started = Date.now();
    await page.goto(`${herald}/`);
    await page.getByRole('heading', { name: 'Sign in to Herald' }).waitFor();
    report.signInPageMs = Date.now() - started;
  });

  // Signing in is this one step: the rest of the run uses the session it makes.
  await step('overview', async () => {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    const started = Date.now();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('Events stored').waitFor();
    report.overviewMs = Date.now() - started;
    report.signedInAs = (await page.getByTestId('signed-in-user').textContent()).trim();
  });

  const userEmail = `${prefix}-ana@example.com`;
  await step('live-events', async () => {
    await page.getByRole('link', { name: 'Live events' }).click();
    await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
    const analytics = new Analytics({ writeKey, host: herald, flushAt: 10, flushInterval: 100 });
    const errors = [];
    analytics.on('error', (e) => errors.push(String(e?.reason ?? e)));
    const userId = `${prefix}-user-1`;
    analytics.identify({ anonymousId: `${prefix}-anon-1`, traits: { email: userEmail, plan: 'trial' } });
    analytics.alias({ userId, previousId: `${prefix}-anon-1` });
    for (let i = 0; i < 3; i++) analytics.track({ userId, event: 'Order Completed', properties: { total: 20 + i } });
    analytics.page({ userId, name: 'Pricing' });
    await analytics.closeAndFlush({ timeout: DEADLINE_MS });
    report.sdkErrors = errors;
    await page.locator('.event .ename', { hasText: 'Order Completed' }).nth(2).waitFor();
    report.liveEvents = await page.locator('.event .etype').allTextContents();
    // The filter is in the URL: only track events named Order Completed.
    await page.getByLabel('Type').selectOption('track');
    await page.getByLabel('Event name').fill('Order Completed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/event=Order\+Completed/);
    report.liveUrl = new URL(page.url()).search;
  });

  await step('profile', async () => {
    await page.getByRole('link', { name: 'Profiles' }).click();
    await page.getByRole('searchbox').or(page.getByLabel('Search')).fill(userEmail);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: userEmail }).click();
    await page.getByRole('heading', { name: userEmail }).waitFor();
    report.profileUrl = new URL(page.url()).pathname;
    const timeline = page.getByRole('list', { name: 'Timeline, newest first' });
    await timeline.locator('.ename', { hasText: 'Order Completed' }).nth(2).waitFor();
    report.timeline = await timeline.locator('.event summary').evaluateAll((rows) =>
      rows.map((r) => [r.querySelector('.etype')?.textContent, r.querySelector('.ename')?.textContent]),
    );
    await page.getByRole('img', { name: 'Identity graph' }).locator('canvas').first().waitFor();
    report.traits = await page.locator('.kv').first().innerText();
  });

  await step('merge-undo', async () => {
    await page.goto(`${herald}/profiles/${encodeURIComponent(`user_id:${prefix}-merger`)}`);
    await page.getByRole('button', { name: 'Undo merge…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Undo merge' }).click();
    // Split again: the profile lists no merge, and the link it no longer takes as refused.
    await page.getByText('No merges.').waitFor();
    report.refusedAfterUndo = await page.getByText(`Refused anonymous_id:${prefix}-device-m`).textContent();
    report.mergeUndone = true;
  });

  await step('audience-editor', async () => {
    await page.getByRole('link', { name: 'Audiences' }).click();
    await page.getByRole('link', { name: 'New audience' }).click();
    await page.getByLabel('Id').fill(`${prefix}_buyers`);
    await page.getByLabel('Name').fill('Buyers');
    const editor = page.getByTestId('rule-editor');
    await editor.click();
    // Completion offers the event names the SDK sent, once the opening quote is typed.
    await page.keyboard.press('Control+A');
    await page.keyboard.type('performed "');
    await page.locator('.cm-tooltip-autocomplete').waitFor();
    report.completions = await page.locator('.cm-tooltip-autocomplete .cm-completionLabel').allTextContents();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('performed "Order Completed" >= ');
    await page.getByTestId('rule-error').waitFor();
    report.ruleError = await page.getByTestId('rule-error').textContent();
    await page.locator('.cm-lintRange-error').first().waitFor();
    report.errorMarked = await page.locator('.cm-lintRange-error').allTextContents();
    await page.keyboard.type('3 in last 7 days');
    await page.getByTestId('rule-error').waitFor({ state: 'detached' });
    await page.getByTestId('preview-members').locator('a').first().waitFor();
    report.previewSize = await page.getByTestId('preview-size').textContent();
    report.previewMembers = await page.getByTestId('preview-members').locator('a').allTextContents();
    await page.getByRole('tab', { name: 'Visual' }).click();
    report.visualCount = await page.getByLabel('Count', { exact: true }).inputValue();
    await page.getByRole('tab', { name: 'Text' }).click();
  });

  await step('audience', async () => {
    await page.getByRole('button', { name: 'Save audience' }).click();
    await page.getByRole('heading', { name: 'Buyers' }).waitFor();
    // The backfill runs after the save: its members and size are final once it is ready.
    await page.getByTestId('audience-state').filter({ hasText: 'ready' }).waitFor();
    const members = page.getByRole('table', { name: 'Members' });
    await members.waitFor();
    report.audienceUrl = new URL(page.url()).pathname;
    report.members = await members.locator('tbody tr td:first-child').allTextContents();
    report.audienceSize = await page.getByTestId('audience-size').textContent();
    report.firstRuleText = await page.locator('pre.rule').textContent();
  });

  // Edit the saved rule in the visual builder: a lower count, and a group of two conditions.
  await step('audience-visual', async () => {
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('tab', { name: 'Visual' }).click();
    await page.getByLabel('Count', { exact: true }).fill('2');
    await page.getByRole('button', { name: '+ Group' }).click();
    const group = page.getByRole('group', { name: 'Group at level 2' });
    await group.waitFor();
    await group.getByLabel('Trait name').fill('email');
    await group.getByLabel('Trait test').selectOption('exists');
    await page.getByTestId('preview-members').locator('a').first().waitFor();
    await page.getByRole('tab', { name: 'Text' }).click();
    report.visualRuleText = await page.getByTestId('rule-editor').innerText();
    report.visualPreviewSize = await page.getByTestId('preview-size').textContent();
    await page.getByRole('button', { name: 'Save audience' }).click();
    await page.getByRole('heading', { name: 'Buyers' }).waitFor();
    await page.getByTestId('audience-state').filter({ hasText: 'ready' }).waitFor();
    await page.getByRole('table', { name: 'Members' }).waitFor();
    report.editedRuleText = await page.locator('pre.rule').textContent();
    report.editedMembers = await page.getByRole('table', { name: 'Members' }).locator('tbody tr td:first-child').allTextContents();
  });

  await step('insights-trend', async () => {
    await page.getByRole('link', { name: 'Insights' }).click();
    await page.getByRole('heading', { name: 'Insights' }).waitFor();
    await page.getByRole('textbox', { name: 'Event' }).fill('Order Completed');
    await page.getByRole('button', { name: 'Run' }).click();
    // The filter goes into the URL; the page keeps the previous chart while the new one
    // loads, so read the totals of a fresh load of that URL (the shared link).
    await page.waitForURL(/event=Order/);
    await page.reload();
    await page.getByTestId('trend-totals').waitFor();
    report.trendTotals = await page.getByTestId('trend-totals').textContent();
  });

  // Save the trend, then find it among the saved charts, run over its rolling range.
  await step('saved-charts', async () => {
    await page.getByLabel('Save as').fill('Orders per day');
    await page.getByRole('button', { name: 'Save chart' }).click();
    await page.getByRole('status').getByRole('link', { name: 'saved charts' }).click();
    await page.getByRole('heading', { name: 'Saved charts' }).waitFor();
    const chart = page.getByTestId('saved-chart').filter({ hasText: 'Orders per day' });
    await chart.getByTestId('trend-totals').waitFor();
    report.savedChartTotals = await chart.getByTestId('trend-totals').textContent();
    report.savedChartCaption = await chart.locator('.card-header .help').textContent();
  });

  // A saved chart's title opens Insights with the same inputs.
  await step('saved-chart-reopened', async () => {
    const chart = page.getByTestId('saved-chart').filter({ hasText: 'Orders per day' });
    await chart.getByRole('link', { name: 'Orders per day' }).click();
    await page.getByRole('heading', { name: 'Insights' }).waitFor();
    report.savedChartUrl = new URL(page.url()).search;
    await page.getByTestId('trend-totals').waitFor();
    report.reopenedTotals = await page.getByTestId('trend-totals').textContent();
  });

  await step('insights-funnel', async () => {
    await page.getByRole('tab', { name: 'Funnels' }).click();
    await page.getByLabel('Steps (comma-separated events)').fill('identify, Order Completed, page');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByTestId('funnel-step').nth(2).waitFor();
    report.funnelCounts = await page.getByTestId('funnel-count').allTextContents();
    report.insightsUrl = new URL(page.url()).search;
  });

  // A template: an error marked where the server finds it, a live preview for the person the
  // SDK identified (MJML compiled in a sandboxed frame), saved, then saved again as version 2.
  await step('template-editor', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
    await page.getByRole('link', { name: 'New template' }).click();
    await page.getByLabel('Id').fill(`${prefix}_welcome`);
    await page.getByLabel('Name').fill('Welcome');
    await page.getByLabel('Format').selectOption('mjml');
    await page.getByLabel('For profile').fill(`email:${userEmail}`);
    await page.getByLabel('Subject').fill('Hi {{ traits.email | nope }}');
    await page.getByTestId('template-error').waitFor();
    report.templateError = await page.getByTestId('template-error').textContent();
    await page.getByLabel('Subject').fill('Hi {{ traits.email }}');
    const body = page.getByTestId('template-body');
    await body.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('<mjml><mj-body><mj-section><mj-column><mj-text>Your plan: {{ traits.plan }}</mj-text></mj-column></mj-section></mj-body></mjml>');
    await page.getByTestId('preview-subject').filter({ hasText: userEmail }).waitFor();
    await page.getByTestId('template-error').waitFor({ state: 'detached' });
    report.templatePreviewSubject = await page.getByTestId('preview-subject').textContent();
    const frame = page.frameLocator('[data-testid=preview-body-frame]');
    await frame.getByText('Your plan:').waitFor();
    report.templatePreviewBody = (await frame.locator('body').innerText()).trim();
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByTestId('template-version').filter({ hasText: 'version 1' }).waitFor();
    await page.getByLabel('Subject').fill('Welcome, {{ traits.email }}');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByTestId('template-version').filter({ hasText: 'version 2' }).waitFor();
    report.templateVersion = await page.getByTestId('template-version').textContent();
    // The versions list reloads after the save: wait for the new version in it.
    const versions = page.getByRole('list', { name: 'Versions' });
    await versions.getByText('v2 ·').waitFor();
    report.templateVersions = await versions.locator('li').count();
    // A test send of the saved version: this server has no email provider, which it says.
    await page.getByLabel('To').fill(userEmail);
    await page.getByRole('button', { name: 'Send test' }).click();
    report.testSendResult = await page.getByTestId('test-send-result').textContent();
  });

  // A broadcast of that template to the audience built above, watched until every member has
  // their message (this server has no channel: each fails `channel_not_configured`), then its
  // list.
  await step('broadcast', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Broadcasts' }).click();
    await page.getByRole('link', { name: 'New broadcast' }).click();
    await page.getByLabel('Name').fill('Welcome everyone');
    await page.getByLabel('Template').selectOption(`${prefix}_welcome`);
    await page.getByLabel('Audience').selectOption(`${prefix}_buyers`);
    await page.getByLabel('Holdout %').fill('0');
    await page.getByRole('button', { name: 'Create broadcast' }).click();
    await page.getByTestId('broadcast-status').filter({ hasText: 'finished' }).waitFor();
    await page.getByRole('list', { name: 'Skipped and failed by reason' }).getByText('failed: channel_not_configured').waitFor();
    report.broadcastUrl = new URL(page.url()).pathname;
    report.broadcastEnqueued = await page.getByTestId('broadcast-enqueued').textContent();
    report.broadcastStatuses = await page.getByRole('list', { name: 'Messages by status' }).locator('li').allInnerTexts();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Broadcasts' }).click();
    await page.getByRole('table', { name: 'Broadcasts' }).getByRole('link', { name: 'Welcome everyone' }).waitFor();
  });

  // The message log, filtered to the broadcast's failed messages (the filter lands in the
  // URL), then one message's page: its status and reason, its content rendered for its person.
  await step('messages', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Messages' }).click();
    await page.getByLabel('Status').selectOption('failed');
    await page.waitForURL(/status=failed/);
    const rows = page.getByTestId('log-row');
    await rows.first().waitFor();
    report.logUrl = new URL(page.url()).search;
    report.logRows = await rows.count();
    report.logTexts = await rows.allInnerTexts();
    await rows.first().getByRole('link').first().click();
    await page.getByTestId('message-status').waitFor();
    report.messageUrl = new URL(page.url()).pathname;
    report.messageStatus = await page.getByTestId('message-status').textContent();
    const frame = page.frameLocator('[data-testid=message-body-frame]');
    await frame.getByText('Your plan:').waitFor();
    report.messageBody = (await frame.locator('body').innerText()).trim();
  });

  // Suppress the user's address, see it listed and on their profile's subscriptions, lift it.
  await step('suppressions', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Suppressions' }).click();
    const form = page.getByRole('form', { name: 'Suppress an address' });
    await form.getByLabel('Address').fill(userEmail.toUpperCase());
    await form.getByRole('button', { name: 'Suppress' }).click();
    const row = page.getByTestId('suppression-row').filter({ hasText: userEmail });
    await row.waitFor();
    report.suppressionRow = await row.innerText();
    await page.goto(`${herald}/profiles/${encodeURIComponent(`email:${userEmail}`)}`);
    const subs = page.getByRole('table', { name: 'Subscriptions' });
    await subs.getByText('suppressed (manual)').waitFor();
    report.subscriptionRows = await subs.locator('tbody tr').allInnerTexts();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Suppressions' }).click();
    await page.getByTestId('suppression-row').filter({ hasText: userEmail }).getByRole('button', { name: 'Lift…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Lift' }).click();
    await page.getByText('No address is suppressed.').waitFor();
  });

  await step('settings', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByTestId('identity-rules').waitFor();
    report.keysShown = await page.getByRole('cell', { name: /^hwk_|^hak_/ }).count();
    report.identityRules = JSON.parse(await page.getByTestId('identity-rules').textContent());
    await page.getByLabel('Email').fill(`${prefix}-viewer@herald.test`);
    await page.getByLabel('Password').fill('viewer-password-1');
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('cell', { name: `${prefix}-viewer@herald.test` }).waitFor();
  });

  await step('messaging-settings', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Messaging' }).click();
    const origin = page.getByTestId('settings-origin');
    await origin.waitFor();
    await page.getByRole('button', { name: 'Add topic' }).click();
    await page.getByLabel('Topic 1 key').fill(`${prefix}_news`);
    await page.getByLabel('Topic 1 default').selectOption('opt_in');
    await page.getByLabel('Topic 1 description').fill('Dashboard news');
    await page.getByRole('button', { name: 'Save topics' }).click();
    await page.getByText('version 1.', { exact: false }).waitFor();
    // A cap the form refuses, then one the server takes.
    await page.getByRole('button', { name: 'Add cap' }).click();
    await page.getByLabel('Cap 1 maximum').fill('0');
    await page.getByRole('button', { name: 'Save policy' }).click();
    report.policyError = (await page.getByRole('alert').textContent()).trim();
    await page.getByLabel('Cap 1 maximum').fill('3');
    await page.getByLabel('Cap 1 window').fill('2d');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('version 2.', { exact: false }).waitFor();
    await page.getByLabel('Provider for webhook').selectOption('webhook');
    await page
      .getByLabel('webhook provider settings', { exact: false })
      .fill(JSON.stringify({ url: `https://hooks.example.com/${prefix}`, secret: 'a-dashboard-webhook-secret' }));
    await page.getByRole('button', { name: 'Save provider' }).click();
    await page.getByTestId('channel-webhook').waitFor();
    report.messagingPolicy = JSON.parse(await page.getByTestId('governor-policy').textContent());
    report.webhookShown = JSON.parse(await page.getByTestId('channel-webhook').textContent());
    report.messagingOrigin = (await origin.textContent()).trim();
  });

  await step('overview-live', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('img', { name: 'Events per second by type' }).locator('canvas').waitFor();
    report.overviewTiles = await page.locator('.tile').allInnerTexts();
  });

  await step('viewer', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Herald' }).waitFor();
    await page.getByLabel('Email').fill(`${prefix}-viewer@herald.test`);
    await page.getByLabel('Password').fill('viewer-password-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    report.viewer = { signedInAs: (await page.getByTestId('signed-in-user').textContent()).trim() };
    await page.getByRole('link', { name: 'Audiences' }).click();
    await page.getByRole('link', { name: 'Buyers' }).click();
    await page.getByRole('table', { name: 'Members' }).waitFor();
    report.viewer.newAudienceLinks = await page.getByRole('link', { name: 'New audience' }).count();
    report.viewer.editLinks = await page.getByRole('link', { name: 'Edit' }).count();
    await page.getByRole('table', { name: 'Members' }).getByRole('link').first().click();
    await page.getByRole('heading', { name: userEmail }).waitFor();
    report.viewer.deleteDisabled = await page.getByRole('button', { name: 'Delete (GDPR)…' }).isDisabled();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByTestId('identity-rules').waitFor();
    report.viewer.createKeyButtons = await page.getByRole('button', { name: 'Create key' }).count();
    report.viewer.adminOnlyNotice = await page.getByTestId('admin-only').count();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Messaging' }).click();
    await page.getByTestId('settings-origin').waitFor();
    report.viewer.messagingSaveButtons = await page.getByRole('button', { name: /^Save/ }).count();
    report.viewer.messagingTopicDisabled = await page.getByLabel('Topic 1 key').isDisabled();
    await page.getByRole('link', { name: 'Saved charts' }).click();
    await page.getByTestId('saved-chart').first().getByTestId('trend-totals').waitFor();
    report.viewer.savedCharts = await page.getByTestId('saved-chart').count();
    report.viewer.deleteChartButtons = await page.getByRole('button', { name: 'Delete' }).count();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Insights', exact: true }).click();
    await page.getByTestId('trend-totals').waitFor();
    report.viewer.saveChartButtons = await page.getByRole('button', { name: 'Save chart' }).count();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
    await page.getByRole('link', { name: 'Welcome' }).click();
    await page.getByTestId('template-version').waitFor();
    report.viewer.newTemplateLinks = await page.getByRole('link', { name: 'New template' }).count();
    report.viewer.templateSaveDisabled = await page.getByRole('button', { name: 'Save new version' }).isDisabled();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Broadcasts' }).click();
    await page.getByRole('table', { name: 'Broadcasts' }).getByRole('link', { name: 'Welcome everyone' }).click();
    await page.getByTestId('broadcast-status').waitFor();
    report.viewer.broadcastButtons = await page.getByRole('button', { name: /Pause|Resume|Cancel/ }).count();
  });

  await step('signed-out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Herald' }).waitFor();
    await page.goto(`${herald}/audiences`);
    await page.getByRole('heading', { name: 'Sign in to Herald' }).waitFor();
  });
} catch (e) {
  report.failure = String(e?.stack ?? e);
  await page.screenshot({ path: path.join(shots, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
process.exit(report.failure ? 1 : 0);
