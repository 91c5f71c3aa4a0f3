// The page's HTML skeleton: panels the client script (src/web/client) fills. Static; the data arrives
// over `/api/events`.

export function pageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ecmpsim</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<header>
  <h1>ecmpsim <span id="sim-name">…</span></h1>
  <span id="sim-mode" class="muted"></span>
  <span id="conn" class="conn connecting" title="event stream">connecting…</span>
  <span id="clock" class="muted"></span>
  <nav class="legend">
    <span><i class="swatch up"></i>session up</span>
    <span><i class="swatch connecting"></i>connecting</span>
    <span><i class="swatch down"></i>down</span>
    <span><i class="swatch member"></i>pool member</span>
  </nav>
</header>
<main>
  <section id="graph-panel" class="panel">
    <h2>Topology <small class="muted">click a compute for its FIB and flows, a member (or its edge) for its path</small>
      <span class="tools"><label><input type="checkbox" id="show-attach"> network links</label> <button type="button" id="fit">fit</button></span></h2>
    <div id="graph"></div>
  </section>
  <section id="vip-panel" class="panel">
    <h2>VIPs <select id="vip-select" aria-label="VIP"></select></h2>
    <div id="members"></div>
    <h3>Flow share per member <small id="flow-total" class="muted"></small></h3>
    <div class="chart-box" id="chart-box"><canvas id="flow-chart" aria-label="flows per member"></canvas></div>
    <h3>ECMP composite per compute <small class="muted">computes with the same slots share a row</small></h3>
    <div id="composites"></div>
  </section>
  <section id="details-panel" class="panel">
    <h2 id="details-title">Details</h2>
    <div id="details"><p class="muted">Click a compute, a workload or a member edge in the graph.</p></div>
  </section>
  <section id="timeline-panel" class="panel">
    <h2>Timeline <small class="muted">members, nodes, sessions</small></h2>
    <ol id="timeline"></ol>
  </section>
  <section id="stanza-panel" class="panel">
    <h2>XMPP stanzas</h2>
    <form id="stanza-filter" autocomplete="off">
      <label>node <input name="node" placeholder="compute-1"></label>
      <label>peer <input name="peer"></label>
      <label>direction <select name="direction"><option value="">any</option><option value="in">in</option><option value="out">out</option></select></label>
      <label>vrf <input name="vrf" placeholder="routing instance"></label>
      <label>prefix <input name="prefix" placeholder="30.30.30.100/32"></label>
      <button type="submit">apply</button>
      <span id="stanza-count" class="muted"></span>
    </form>
    <div id="stanzas"></div>
  </section>
</main>
<script src="/assets/app.js"></script>
</body>
</html>
`;
}
