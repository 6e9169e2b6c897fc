// The console's only script: confirmation before an operation, and the task list kept up to date.
"use strict";

document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
});

// The first page of the task list redraws itself from /tasks.json every two seconds. Every value goes
// in as text (textContent), never as markup.
const LIVE_SECONDS = 2;
const table = document.querySelector("table[data-live]");

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  return td;
}

function row(task) {
  const tr = document.createElement("tr");
  const link = document.createElement("a");
  link.href = task.url;
  link.textContent = task.task_id;
  const first = document.createElement("td");
  first.append(link);
  tr.append(first, cell(task.kind), cell(task.status), cell(task.outcome), cell(task.ref), cell(task.created_at));
  return tr;
}

let shown = null;

async function refresh() {
  try {
    const response = await fetch(table.dataset.live, { headers: { Accept: "application/json" } });
    if (response.ok) {
      const text = await response.text();
      if (text !== shown) {
        shown = text;
        table.tBodies[0].replaceChildren(...JSON.parse(text).tasks.map(row));
        const empty = document.querySelector("p.empty");
        if (empty) {
          empty.hidden = table.tBodies[0].rows.length > 0;
        }
      }
    }
  } catch {
    // The console is not answering (stopped, restarting): the list stays as it is until it answers.
  } finally {
    window.setTimeout(refresh, LIVE_SECONDS * 1000);
  }
}

if (table) {
  window.setTimeout(refresh, LIVE_SECONDS * 1000);
}
