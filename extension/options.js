// The options page: the server address (with the host permission it needs), whether to
// contribute prices, the reporter key, and the account.

import { getSettings, saveSettings, normalizeServerUrl, originPattern, SettingsError } from './lib/settings.js';

const $ = (id) => document.getElementById(id);

function say(el, text, kind = '') {
  el.textContent = text || '';
  el.className = kind;
}

async function send(message) {
  const answer = await chrome.runtime.sendMessage(message);
  if (answer?.error) throw new Error(answer.message || answer.error);
  return answer;
}

/** Ask for the host permission `serverUrl` needs, unless the manifest already grants it. */
async function allowServer(serverUrl) {
  const origins = [originPattern(serverUrl)];
  if (await chrome.permissions.contains({ origins })) return true;
  return chrome.permissions.request({ origins });
}

async function refresh() {
  const settings = await getSettings();
  $('server-url').value = settings.serverUrl;
  $('contribute').checked = settings.contribute;
  const status = await send({ type: 'status' });
  $('public-key').textContent = status.publicKey || 'not made yet';
  $('queued').textContent = status.queued ? `${status.queued} report(s) waiting to be sent` : 'no reports waiting';
  $('account-line').textContent = status.signedIn ? `Signed in as ${status.email}.` : 'Not signed in: sign in from the toolbar popup to set price alerts.';
  $('signout').hidden = !status.signedIn;
}

$('server-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const serverUrl = normalizeServerUrl($('server-url').value);
    // Must run in the click's user gesture, before any other await.
    if (!(await allowServer(serverUrl))) {
      say($('server-msg'), 'Chrome did not allow the extension to reach that server.', 'bad');
      return;
    }
    await saveSettings({ serverUrl });
    say($('server-msg'), `Saved: using ${serverUrl}.`, 'good');
    await refresh();
  } catch (e) {
    say($('server-msg'), e instanceof SettingsError ? e.message : `Not saved: ${e.message}`, 'bad');
  }
});

$('contribute').addEventListener('change', async () => {
  await saveSettings({ contribute: $('contribute').checked });
});

$('signout').addEventListener('click', async () => {
  await send({ type: 'signOut' });
  await refresh();
});

refresh()
  .then(() => { document.querySelector('main').dataset.state = 'ready'; })
  .catch((e) => {
    say($('server-msg'), e.message, 'bad');
    document.querySelector('main').dataset.state = 'error';
  });
