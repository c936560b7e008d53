'use strict';
// The dashboard page the api serves at GET /dashboard: the status of every message, live, over the
// WebSocket of dashboard.js, opened on the address the page came from.
//
// What it does when the connection drops (chaos-008 checks each): it says so (`offline`), tries
// again after 250 ms, doubling the wait up to 5 s; when it is back it asks for what it missed
// (`since` = the last sequence number it saw) and shows it; an event whose sequence number skips
// some counts the skipped ones as missed. A connection with no frame for 3 s (the server sends a
// heartbeat every second) is taken for dead and closed.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Demo dashboard</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5rem; }
  #connection { font-weight: bold; }
  #connection[data-state=online] { color: #1a7f37; }
  #connection[data-state=offline] { color: #cf222e; }
  table { border-collapse: collapse; margin-top: 1rem; }
  td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
  #log { max-height: 20rem; overflow: auto; font: 12px monospace; }
</style>
</head>
<body>
<h1>Messages</h1>
<p>Connection: <span id="connection" data-state="connecting">connecting</span>
 · reconnects: <span id="reconnects">0</span>
 · events: <span id="events">0</span>
 · last sequence: <span id="last-seq">0</span>
 · missed: <span id="missed">0</span></p>
<table><thead><tr><th>message</th><th>status</th><th>sequence</th></tr></thead><tbody id="messages"></tbody></table>
<h2>Events</h2>
<ol id="log"></ol>
<script>
(() => {
  const MIN_DELAY_MS = 250, MAX_DELAY_MS = 5000, SILENT_MS = 3000;
  const $ = (id) => document.getElementById(id);
  let lastSeq = 0, events = 0, missed = 0, reconnects = 0, attempt = 0, connectedOnce = false, lastFrame = 0;
  let socket;

  function show(state) {
    $('connection').textContent = state;
    $('connection').dataset.state = state;
  }

  function onEvent(e) {
    if (e.seq <= lastSeq) return; // sent twice (a replay overlapping the live feed): shown once
    if (e.seq > lastSeq + 1) missed += e.seq - lastSeq - 1;
    lastSeq = e.seq;
    events++;
    let row = document.querySelector('tr[data-id="' + e.id + '"]');
    if (!row) {
      row = document.createElement('tr');
      row.dataset.id = e.id;
      row.innerHTML = '<td></td><td></td><td></td>';
      row.cells[0].textContent = e.id;
      $('messages').prepend(row);
    }
    row.cells[1].textContent = e.status;
    row.cells[2].textContent = e.seq;
    const item = document.createElement('li');
    item.dataset.seq = e.seq;
    item.textContent = '#' + e.seq + ' message ' + e.id + ' ' + e.status + ' ' + e.at;
    $('log').append(item);
    $('events').textContent = events;
    $('last-seq').textContent = lastSeq;
    $('missed').textContent = missed;
  }

  function connect() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/events?since=' + lastSeq;
    socket = new WebSocket(url);
    socket.onopen = () => {
      if (connectedOnce) $('reconnects').textContent = ++reconnects;
      connectedOnce = true;
      attempt = 0;
      lastFrame = Date.now();
      show('online');
    };
    socket.onmessage = (m) => {
      lastFrame = Date.now();
      const frame = JSON.parse(m.data);
      if (frame.type === 'event') onEvent(frame);
    };
    socket.onclose = () => {
      show('offline');
      const delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempt++);
      setTimeout(connect, delay);
    };
  }

  setInterval(() => {
    if (socket && socket.readyState === WebSocket.OPEN && Date.now() - lastFrame > SILENT_MS) socket.close();
  }, 500);
  connect();
})();
</script>
</body>
</html>
`;

module.exports = { PAGE };
