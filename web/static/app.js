// Small improvements on pages that work without it (loaded from our own origin, as the
// page's Content-Security-Policy requires; no inline script anywhere).
"use strict";

// The answer to what the person just sent takes the focus: it comes into view, and a
// screen reader reads it, wherever on the page it is (a step's block, the top).
function focusFeedback() {
  const message = document.querySelector("[data-feedback]");
  if (message) {
    message.focus();
  }
}

// Times are written on the server in the contest's zone, which is named. Only the
// browser knows its reader's zone: when it differs, the time is written again in the
// reader's zone, in the page's language, the contest's time kept beside it.
function readersTimes() {
  const readerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const language = document.documentElement.lang || undefined;
  const options = {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  };
  for (const time of document.querySelectorAll("time[data-zone]")) {
    const instant = new Date(time.getAttribute("datetime"));
    const contestZone = time.dataset.zone;
    if (!readerZone || readerZone === contestZone || Number.isNaN(instant.getTime())) {
      continue;
    }
    let local;
    try {
      const wallClock = (timeZone) =>
        new Intl.DateTimeFormat(language, { ...options, timeZone }).format(instant);
      // Another zone on the same clock (Paris and Madrid): the time as written is right.
      if (wallClock(readerZone) === wallClock(contestZone)) {
        continue;
      }
      local = new Intl.DateTimeFormat(language, {
        ...options,
        timeZone: readerZone,
        timeZoneName: "long",
      }).format(instant);
    } catch (error) {
      continue;
    }
    const contestTime = document.createElement("span");
    contestTime.className = "contest-time";
    contestTime.textContent = ` (${time.textContent})`;
    time.textContent = local;
    time.after(contestTime);
  }
}

// The console's "Add a step" lists one form per kind, each with only its kind's fields;
// without script any number may be open. With it, opening one kind closes the others,
// so the page shows the fields of the kind chosen and no other.
function oneStepKindAtATime() {
  const kinds = document.querySelectorAll("details.add-step");
  for (const kind of kinds) {
    kind.addEventListener("toggle", () => {
      if (!kind.open) {
        return;
      }
      for (const other of kinds) {
        if (other !== kind) {
          other.open = false;
        }
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  readersTimes();
  focusFeedback();
  oneStepKindAtATime();
});
