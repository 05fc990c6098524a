// The Sluice web UI: the job page (charts, sources, batch tables) and a page per batch, kept
// live by the server's event stream. Plain browser JavaScript, no build step; uPlot draws.

(() => {
  const CHART_HEIGHT = 150;
  const HISTOGRAM_BINS = 20;
  const TABLE_ROWS = 100;

  /** The four statistics of Spark's Streaming tab, each from a completed batch. */
  const STATISTICS = {
    inputRate: {
      unit: "records/s",
      value: (batch, job) => (batch.records * 1000) / job.batchIntervalMs,
    },
    schedulingDelay: { unit: "ms", value: (batch) => batch.schedulingDelayMs },
    processingTime: { unit: "ms", value: (batch) => batch.processingMs },
    totalDelay: { unit: "ms", value: (batch) => batch.totalDelayMs },
  };

  const state = {
    job: undefined,
    batches: new Map(),
    checkpointReceivedAt: 0,
    charts: new Map(),
    redrawPending: false,
  };

  const element = (id) => document.getElementById(id);

  function make(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = String(text);
    if (className !== undefined) node.className = className;
    return node;
  }

  function pad(value, width = 2) {
    return String(value).padStart(width, "0");
  }

  function formatTime(ms) {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  function formatMs(ms) {
    if (ms === undefined || ms === null) return "-";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
    return `${(ms / 60_000).toFixed(1)} min`;
  }

  function formatNumber(value) {
    if (value === undefined || value === null) return "-";
    return Number.isInteger(value) ? value.toLocaleString("en") : value.toFixed(1);
  }

  function formatBytes(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  }

  async function fetchJson(path) {
    const response = await fetch(path, { cache: "no-store" });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  }

  function fillSummary(list, entries) {
    list.replaceChildren(
      ...entries.map(([term, value, id]) => {
        const item = make("div");
        if (id !== undefined) item.dataset.field = id;
        item.append(make("dt", term), make("dd", value));
        return item;
      }),
    );
  }

  function completedBatches() {
    return [...state.batches.values()]
      .filter((batch) => batch.status === "completed" || batch.status === "failed")
      .sort((a, b) => a.batchTime - b.batchTime);
  }

  // ---- the job page ----

  function renderSummary() {
    const job = state.job;
    const checkpoint = job.checkpoint;
    let checkpointText = "off";
    if (job.checkpointing) {
      checkpointText =
        checkpoint === undefined || checkpoint === null
          ? "none yet"
          : `${formatMs(Date.now() - checkpoint.writtenAt)} ago, ${formatBytes(checkpoint.sizeBytes)}`;
    }
    fillSummary(element("summary"), [
      ["Batch interval", formatMs(job.batchIntervalMs), "batchInterval"],
      ["Master", job.master ?? "local", "master"],
      [
        "Running since",
        job.startTime === undefined ? "not started" : formatTime(job.startTime),
        "startTime",
      ],
      ["Completed batches", formatNumber(job.completedBatches), "completedBatches"],
      ["Records processed", formatNumber(job.totalRecords), "totalRecords"],
      ["Last checkpoint", checkpointText, "checkpoint"],
      ["Dead letters", formatNumber(job.deadLetters), "deadLetters"],
    ]);
  }

  function renderSources() {
    const body = element("sources").tBodies[0];
    const sources = state.job.sources;
    if (sources.length === 0) {
      const row = make("tr");
      const cell = make("td", "no sources reported yet", "empty");
      cell.colSpan = 9;
      row.append(cell);
      body.replaceChildren(row);
      return;
    }
    body.replaceChildren(
      ...sources.map((source) => {
        const row = make("tr");
        row.dataset.source = source.name;
        const stateText =
          source.paused !== undefined && source.paused !== null
            ? `paused (${source.paused})`
            : source.active === false
              ? "stopped"
              : "running";
        const partitions =
          source.backlog === undefined || source.backlog === null
            ? "-"
            : Object.entries(source.backlog)
                .map(
                  ([partition, records]) =>
                    `${partition}: ${formatNumber(records)} waiting, ${formatNumber(source.recordsPerPartition?.[partition])} next`,
                )
                .join("; ");
        const rateLimit =
          source.rateLimit === undefined || source.rateLimit === null
            ? source.backpressure
              ? "adapting"
              : "none"
            : `${formatNumber(source.rateLimit)}/s`;
        row.append(
          make("td", source.name),
          make("td", stateText),
          make("td", formatNumber(source.recordsPerSecond)),
          make("td", formatNumber(source.totalRecords)),
          make("td", formatNumber(source.queuedRecords)),
          make("td", rateLimit),
          make("td", partitions, "text"),
          make("td", formatNumber(source.reconnects)),
        );
        const errors = make("td", formatNumber(source.errors));
        if (source.lastError) errors.title = source.lastError;
        row.append(errors);
        return row;
      }),
    );
  }

  function batchLink(batch) {
    const link = make("a", formatTime(batch.batchTime));
    link.href = `/batches/${batch.batchTime}`;
    return link;
  }

  function renderBatchTables() {
    const all = [...state.batches.values()].sort((a, b) => b.batchTime - a.batchTime);
    const active = all.filter(
      (batch) => batch.status === "queued" || batch.status === "processing",
    );
    const completed = all.filter(
      (batch) => batch.status === "completed" || batch.status === "failed",
    );
    element("active-count").textContent = `(${active.length})`;
    element("completed-count").textContent =
      `(${state.job.completedBatches}, last ${Math.min(completed.length, TABLE_ROWS)} shown)`;
    element("active-batches").tBodies[0].replaceChildren(
      ...active.map((batch) => {
        const row = make("tr");
        row.dataset.batchTime = String(batch.batchTime);
        const timeCell = make("td");
        timeCell.append(batchLink(batch));
        const done = batch.outputOperations.filter((op) => op.status !== "running").length;
        row.append(
          timeCell,
          make("td", formatNumber(batch.records)),
          make("td", formatMs(batch.schedulingDelayMs)),
          make("td", batch.status, `status-${batch.status}`),
          make("td", `${done}/${batch.outputOperations.length}`),
        );
        return row;
      }),
    );
    element("completed-batches").tBodies[0].replaceChildren(
      ...completed.slice(0, TABLE_ROWS).map((batch) => {
        const row = make("tr");
        row.dataset.batchTime = String(batch.batchTime);
        const timeCell = make("td");
        timeCell.append(batchLink(batch));
        const succeeded = batch.outputOperations.filter((op) => op.status === "succeeded").length;
        row.append(
          timeCell,
          make("td", formatNumber(batch.records)),
          make("td", formatMs(batch.schedulingDelayMs)),
          make("td", formatMs(batch.processingMs)),
          make("td", formatMs(batch.totalDelayMs)),
          make("td", `${succeeded}/${batch.outputOperations.length}`),
          make("td", batch.status, `status-${batch.status}`),
        );
        return row;
      }),
    );
  }

  /** Spark's histograms: counts of the batches' values in equal bins over their range. */
  function histogram(values) {
    if (values.length === 0) return [[], []];
    const min = Math.min(...values);
    const max = Math.max(...values);
    const width = max > min ? (max - min) / HISTOGRAM_BINS : 1;
    const bins = max > min ? HISTOGRAM_BINS : 1;
    const centres = [];
    const counts = new Array(bins).fill(0);
    for (let bin = 0; bin < bins; bin++) centres.push(min + width * (bin + 0.5));
    for (const value of values) {
      const bin = Math.min(bins - 1, Math.floor((value - min) / width));
      counts[bin]++;
    }
    return [centres, counts];
  }

  function createCharts() {
    for (const row of document.querySelectorAll("tr[data-chart]")) {
      const name = row.dataset.chart;
      const statistic = STATISTICS[name];
      const timelineCell = row.querySelector("td.timeline");
      const histogramCell = row.querySelector("td.histogram");
      const timeline = new uPlot(
        {
          width: Math.max(300, timelineCell.clientWidth - 8),
          height: CHART_HEIGHT,
          legend: { show: false },
          scales: { x: { time: true } },
          axes: [{}, { label: statistic.unit, size: 60 }],
          series: [
            {},
            {
              stroke: "#1a6fb5",
              fill: "rgba(26,111,181,0.12)",
              width: 1.5,
              points: { show: true, size: 4 },
            },
          ],
        },
        [[], []],
        timelineCell,
      );
      const bars = uPlot.paths.bars({ size: [0.9, 40] });
      const histogramChart = new uPlot(
        {
          width: Math.max(200, histogramCell.clientWidth - 8),
          height: CHART_HEIGHT,
          legend: { show: false },
          scales: { x: { time: false } },
          axes: [{ label: statistic.unit }, { label: "batches", size: 50 }],
          series: [
            {},
            {
              stroke: "#1a6fb5",
              fill: "rgba(26,111,181,0.45)",
              paths: bars,
              points: { show: false },
            },
          ],
        },
        [[], []],
        histogramCell,
      );
      state.charts.set(name, { row, statistic, timeline, histogram: histogramChart });
    }
  }

  function redrawCharts() {
    state.redrawPending = false;
    const batches = completedBatches();
    const times = batches.map((batch) => batch.batchTime / 1000);
    element("statistics-scope").textContent = `(last ${batches.length} completed batches)`;
    for (const [, chart] of state.charts) {
      const values = batches.map((batch) => chart.statistic.value(batch, state.job) ?? null);
      chart.timeline.setData([times, values]);
      const present = values.filter((value) => value !== null);
      chart.histogram.setData(histogram(present));
      const average =
        present.length === 0
          ? undefined
          : present.reduce((sum, value) => sum + value, 0) / present.length;
      chart.row.querySelector(".chart-average").textContent =
        average === undefined ? "" : `avg ${formatNumber(average)} ${chart.statistic.unit}`;
      // How many batches the chart plots: what a reader (and the browser test) can check.
      chart.row.dataset.points = String(present.length);
    }
  }

  function scheduleRedraw() {
    if (state.redrawPending) return;
    state.redrawPending = true;
    requestAnimationFrame(() => {
      redrawCharts();
      renderBatchTables();
      renderSummary();
    });
  }

  // ---- the batch page ----

  function renderBatchPage(batch) {
    element("batch-title").textContent = `Batch ${formatTime(batch.batchTime)}`;
    document.title = `Sluice: batch ${formatTime(batch.batchTime)}`;
    element("batch-page").dataset.status = batch.status;
    fillSummary(element("batch-summary"), [
      ["Status", batch.status, "status"],
      ["Records", formatNumber(batch.records), "records"],
      ["Scheduling delay", formatMs(batch.schedulingDelayMs), "schedulingDelay"],
      ["Processing time", formatMs(batch.processingMs), "processingTime"],
      ["Total delay", formatMs(batch.totalDelayMs), "totalDelay"],
      ["Submitted", formatTime(batch.submissionTime), "submitted"],
    ]);
    element("output-operations").tBodies[0].replaceChildren(
      ...batch.outputOperations.map((operation) => {
        const row = make("tr");
        row.dataset.outputOperation = String(operation.id);
        row.append(
          make("td", operation.id),
          make("td", operation.name, "text"),
          make("td", operation.status, `status-${operation.status}`),
          make("td", formatMs(operation.durationMs)),
          make("td", formatNumber(operation.records)),
          make("td", operation.failureReason ?? "", "text"),
        );
        return row;
      }),
    );
    const execution = batch.execution;
    element("executors-section").hidden = execution === undefined || execution === null;
    if (execution) {
      fillSummary(element("execution-summary"), [
        ["Executors", execution.executors],
        ["Tasks", formatNumber(execution.tasks)],
        ["Failed task attempts", formatNumber(execution.failedTaskAttempts)],
        ["Shuffle", formatBytes(execution.shuffleBytes)],
        ["In functions", formatMs(execution.functionsMs)],
        ["Shuffling", formatMs(execution.shuffleMs)],
        ["Aggregating", formatMs(execution.aggregateMs)],
        ["Moving data", formatMs(execution.transferMs)],
      ]);
      element("executors").tBodies[0].replaceChildren(
        ...Object.entries(execution.taskMsByExecutor).map(([thread, ms]) => {
          const row = make("tr");
          row.append(make("td", `thread ${thread}`), make("td", formatMs(ms)));
          return row;
        }),
      );
    }
  }

  // ---- live updates ----

  // Resolves once the server has the page subscribed (its "open" comes after the server added
  // the stream), so a snapshot read after it misses no change.
  function connect(onChange) {
    const connection = element("connection");
    const events = new EventSource("/api/events");
    let subscribed;
    const opened = new Promise((resolve) => {
      subscribed = resolve;
    });
    events.addEventListener("open", () => {
      connection.dataset.state = "live";
      connection.textContent = "live";
      subscribed();
    });
    events.addEventListener("error", () => {
      connection.dataset.state = "lost";
      connection.textContent = "reconnecting…";
    });
    for (const kind of ["batch", "sources", "checkpoint", "started", "deadLetters"]) {
      events.addEventListener(kind, (event) => onChange(JSON.parse(event.data)));
    }
    return opened;
  }

  // A change may arrive after a newer one of the same batch was read in the snapshot.
  function isDone(batch) {
    return batch !== undefined && (batch.status === "completed" || batch.status === "failed");
  }

  function keepBatch(batch) {
    if (isDone(state.batches.get(batch.batchTime)) && !isDone(batch)) return;
    state.batches.set(batch.batchTime, batch);
  }

  async function showJobPage() {
    element("job-page").hidden = false;
    // Subscribed before reading the snapshot, no batch completes unseen in between; what
    // arrives meanwhile is applied once the snapshot is in. Creating the EventSource is not
    // enough: its request may reach the server after the snapshot's.
    const early = [];
    let apply = (change) => early.push(change);
    await connect((change) => apply(change));
    state.job = await fetchJson("/api/job");
    for (const batch of state.job.batches) keepBatch(batch);
    element("app-name").textContent = state.job.appName;
    document.title = `Sluice: ${state.job.appName}`;
    createCharts();
    renderSources();
    scheduleRedraw();
    apply = applyJobChange;
    for (const change of early) applyJobChange(change);
    // The checkpoint's age grows between batches. The summary is only drawn with the tables, so
    // that its batch count always matches the rows shown.
    setInterval(scheduleRedraw, 1000);
  }

  function applyJobChange(change) {
    switch (change.kind) {
      case "batch":
        keepBatch(change.batch);
        state.job.completedBatches = Math.max(
          state.job.completedBatches,
          change.totals.completedBatches,
        );
        state.job.totalRecords = Math.max(state.job.totalRecords, change.totals.totalRecords);
        trimBatches();
        scheduleRedraw();
        break;
      case "sources":
        state.job.sources = change.sources;
        renderSources();
        break;
      case "checkpoint":
        state.job.checkpoint = change.checkpoint;
        scheduleRedraw();
        break;
      case "started":
        state.job.startTime = change.startTime;
        scheduleRedraw();
        break;
      case "deadLetters":
        state.job.deadLetters = change.deadLetters;
        scheduleRedraw();
        break;
    }
  }

  // Keeps as many completed batches as the server does (the first snapshot tells how many).
  function trimBatches() {
    const keep = Math.max(state.job.batches.length, 1000);
    const completed = completedBatches();
    for (const batch of completed.slice(0, Math.max(0, completed.length - keep))) {
      state.batches.delete(batch.batchTime);
    }
  }

  async function showBatchPage(batchTime) {
    element("batch-page").hidden = false;
    // As on the job page: subscribed first, changes that arrive before the snapshot follow it.
    const early = [];
    let apply = (batch) => early.push(batch);
    await connect((change) => {
      if (change.kind === "batch" && change.batch.batchTime === batchTime) apply(change.batch);
    });
    const job = await fetchJson("/api/job");
    element("app-name").textContent = job.appName;
    let shown;
    apply = (batch) => {
      if (isDone(shown) && !isDone(batch)) return;
      shown = batch;
      renderBatchPage(batch);
    };
    try {
      apply(await fetchJson(`/api/batches/${batchTime}`));
    } catch {
      element("batch-title").textContent = `No batch at ${formatTime(batchTime)} is kept any more`;
    }
    for (const batch of early) apply(batch);
  }

  const batchPath = /^\/batches\/(\d+)$/.exec(location.pathname);
  if (batchPath !== null) {
    void showBatchPage(Number(batchPath[1]));
  } else {
    void showJobPage();
  }
})();
