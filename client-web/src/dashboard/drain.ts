// The Drain button: after a confirmation, POST /dashboard/drain starts the
// same drain as SIGTERM (matchmaking stops, /readyz turns 503, running
// rounds play on until they end or the drain timeout, then the process
// exits). The health stream reports the drain at once; the button only
// says whether the request was accepted.

const QUESTION =
  "Drain this server?\n\n" +
  "Matchmaking stops and /readyz turns 503 at once; running rounds play on until they end or the drain timeout passes, then every session is closed and the server exits.\n\n" +
  "This is what SIGTERM does, and it cannot be undone from here.";

export function bindDrain(button: HTMLButtonElement, url: string, report: (text: string, bad: boolean) => void): void {
  button.addEventListener("click", async () => {
    if (button.disabled || !window.confirm(QUESTION)) return;
    button.disabled = true;
    try {
      const res = await fetch(url, { method: "POST" });
      if (res.status !== 202 && !res.ok) throw new Error(`HTTP ${res.status} ${(await res.text()).trim()}`);
      report("Drain started: matchmaking has stopped; rooms end by the drain timeout, then the server exits.", false);
    } catch (e) {
      button.disabled = false;
      report(`The drain request failed: ${e instanceof Error ? e.message : String(e)}`, true);
    }
  });
}
