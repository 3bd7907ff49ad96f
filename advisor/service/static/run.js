// The run page's live progress: the run's JSON, fetched every second with the session cookie,
// until the run ends. Text only (textContent): nothing from the server is parsed as HTML.
(function () {
  var box = document.getElementById("run");
  if (!box) { return; }
  var id = box.getAttribute("data-run");
  var ended = ["done", "failed", "cancelled"];
  function text(name, value) { document.getElementById(name).textContent = value; }
  function update(run) {
    var p = run.progress || {};
    text("status", run.status);
    document.getElementById("status").className = "status-" + run.status;
    text("stage", p.stage || "");
    text("trials", String(p.trials_done || 0));
    text("best", p.best === null || p.best === undefined ? "" : p.best.toFixed(4));
    text("left", p.time_left_s === null || p.time_left_s === undefined ? "" : p.time_left_s + " s");
    text("error", run.error || "");
    if (run.test_score !== null && run.test_score !== undefined) {
      text("score", run.test_score.toFixed(4) + " " + run.metric + " (" + run.family + ")");
    }
    if (run.status === "done") {
      document.getElementById("links").hidden = false;
      document.getElementById("predict").hidden = false;
    }
    var cancel = document.getElementById("cancel");
    if (cancel && ended.indexOf(run.status) >= 0) { cancel.hidden = true; }
    return ended.indexOf(run.status) < 0;
  }
  function poll() {
    fetch("/api/runs/" + encodeURIComponent(id), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (run) { if (run && update(run)) { setTimeout(poll, 1000); } })
      .catch(function () { setTimeout(poll, 2000); });
  }
  if (ended.indexOf(document.getElementById("status").textContent) < 0) { setTimeout(poll, 500); }
})();
