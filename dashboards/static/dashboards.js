/* The dashboards' figures, drawn from the JSON each figure's div carries in its data-figure attribute: the page has
   no inline script, as the Content-Security-Policy wants. plotly.js is the bundle of
   the plotly package, served by the app.

   A click on a cell or bar whose point carries an address (its customdata, or the last item of it) opens that
   address: a gap's devices, a unit's dashboard, a collector, a scenario. A treemap's click opens its branch, as
   plotly does. The PNG buttons use plotly's own image export.

   The table behind a figure is read from the API (the <details>' data-table-url) when it is first opened: a
   city's gaps are thousands of rows no page needs until someone asks. Its cells keep the plain value
   (data-value), shown for the page's language (numbers, "15.000.000 ₫", dd/mm/yyyy); a click on a column's
   heading sorts by it. */
(function () {
  "use strict";

  function addressOf(point) {
    if (!point || point.data.type === "treemap") {
      return null;
    }
    var found = point.customdata;
    if (Array.isArray(found)) {
      found = found[found.length - 1];
    }
    return typeof found === "string" && found.charAt(0) === "/" && found.charAt(1) !== "/" ? found : null;
  }

  function draw(div) {
    var figure = JSON.parse(div.getAttribute("data-figure"));
    var config = {responsive: true, displaylogo: false, locale: document.documentElement.lang || "vi"};
    window.Plotly.newPlot(div, figure.data, figure.layout, config).then(function () {
      div.setAttribute("data-drawn", "true");
    });
    div.on("plotly_click", function (event) {
      var address = addressOf(event.points && event.points[0]);
      if (address) {
        window.location.assign(address);
      }
    });
  }

  function downloadPng(button) {
    var div = document.getElementById(button.getAttribute("data-png"));
    window.Plotly.downloadImage(div, {format: "png", filename: button.getAttribute("data-filename"),
                                      width: div.clientWidth || 1000, height: div.clientHeight || 500});
  }

  var language = document.documentElement.lang || "vi";
  var formats = {
    number: new Intl.NumberFormat(language),
    vnd: new Intl.NumberFormat(language, {style: "currency", currency: "VND", maximumFractionDigits: 0}),
    percent: new Intl.NumberFormat(language, {minimumFractionDigits: 1, maximumFractionDigits: 1}),
    moment: new Intl.DateTimeFormat("en-GB", {timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit",
                                              year: "numeric", hour: "2-digit", minute: "2-digit"})
  };

  function shown(value, kind) {
    if (value === null || value === undefined) {
      return kind === "text" ? "" : "—";
    }
    if (value === true || value === false) {
      return value ? "✓" : "—";
    }
    if (kind === "number" || kind === "vnd") {
      return formats[kind].format(value);
    }
    if (kind === "percent") {
      return formats.percent.format(value) + "%";
    }
    if (kind === "day") {
      return value.slice(8, 10) + "/" + value.slice(5, 7) + "/" + value.slice(0, 4);
    }
    if (kind === "moment") { // stored in UTC, shown in the city's time
      return formats.moment.format(new Date(value + (value.endsWith("Z") ? "" : "Z"))).replace(",", "");
    }
    return String(value);
  }

  function cell(tag, text) {
    var element = document.createElement(tag);
    element.textContent = text;
    return element;
  }

  function buildTable(found) {
    var table = document.createElement("table");
    table.className = "table table-sm table-striped";
    var head = table.createTHead().insertRow();
    found.columns.forEach(function (column) {
      var heading = document.createElement("th");
      heading.scope = "col";
      heading.setAttribute("data-key", column.key);
      heading.setAttribute("data-kind", column.kind);
      var button = cell("button", column.label);
      button.type = "button";
      button.className = "btn btn-link btn-sm p-0 text-start";
      heading.appendChild(button);
      head.appendChild(heading);
    });
    var body = table.createTBody();
    found.rows.forEach(function (record, index) {
      var row = body.insertRow();
      found.columns.forEach(function (column, position) {
        var value = record[column.key];
        var td = row.insertCell();
        td.setAttribute("data-value", value === null || value === undefined ? "" : String(value));
        if (column.kind === "number" || column.kind === "vnd" || column.kind === "percent") {
          td.className = "text-end";
        }
        var href = found.hrefs[index];
        if (position === 0 && href) {
          var link = cell("a", shown(value, column.kind));
          link.href = href;
          td.appendChild(link);
        } else {
          td.textContent = shown(value, column.kind);
        }
      });
    });
    sortable(table);
    return table;
  }

  function loadTable(details) {
    var status = details.querySelector("[data-table-status]");
    fetch(details.getAttribute("data-table-url"), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status + " " + response.statusText);
        }
        return response.json();
      })
      .then(function (found) {
        var wrapper = document.createElement("div");
        wrapper.className = "table-responsive";
        wrapper.appendChild(buildTable(found));
        details.appendChild(wrapper);
        details.setAttribute("data-loaded", "true");
        status.remove();
      })
      .catch(function (error) {
        status.textContent = status.getAttribute("data-failed") + " (" + error.message + ")";
        details.removeAttribute("data-requested");
      });
  }

  function sortBy(table, index, kind, heading) {
    var body = table.tBodies[0];
    var ascending = heading.getAttribute("aria-sort") !== "ascending";
    var numeric = kind === "number" || kind === "vnd" || kind === "percent";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].getAttribute("data-value");
      var y = b.cells[index].getAttribute("data-value");
      var order;
      if (numeric) {
        order = (x === "" ? -Infinity : Number(x)) - (y === "" ? -Infinity : Number(y));
      } else {
        order = x.localeCompare(y, document.documentElement.lang || undefined);
      }
      return ascending ? order : -order;
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.forEach(function (row) {
      body.appendChild(row);
    });
  }

  function sortable(table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (heading, index) {
      var button = heading.querySelector("button");
      if (button) {
        button.addEventListener("click", function () {
          sortBy(table, index, heading.getAttribute("data-kind"), heading);
        });
      }
    });
  }

  document.querySelectorAll("[data-figure]").forEach(draw);
  document.querySelectorAll("[data-png]").forEach(function (button) {
    button.addEventListener("click", function () {
      downloadPng(button);
    });
  });
  document.querySelectorAll("details[data-table-url]").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (details.open && !details.hasAttribute("data-requested")) {
        details.setAttribute("data-requested", "true");
        loadTable(details);
      }
    });
  });
}());
