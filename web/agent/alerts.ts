const DESKTOP_KEY = 'parley-agent-desktop-notifications';

/**
 * What an agent notices on `notify`: a bubble (toast) that opens the conversation, a short sound, a
 * tab title that flashes while the tab is hidden, and a desktop notification (Notification API) while
 * the page is not looked at, once the person allowed it (asked on a click in preferences).
 */
export class Alerts {
  /** Turns a notify into the bubble's text; set once the directory is known. */
  describe: (conversationId: string, messageId: string) => string = () => 'New message';
  private readonly box: HTMLElement;
  private audio: AudioContext | null = null;
  private flashing: ReturnType<typeof setInterval> | null = null;
  private readonly title = document.title;

  constructor() {
    this.box = document.createElement('div');
    this.box.className = 'toasts';
    this.box.setAttribute('aria-live', 'polite');
    document.body.appendChild(this.box);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.stopFlashing();
    });
    // Browsers start audio only after a gesture: make the context on the first one.
    const unlock = () => {
      this.audio ??= new AudioContext();
      void this.audio.resume();
    };
    addEventListener('pointerdown', unlock, { once: true });
    addEventListener('keydown', unlock, { once: true });
  }

  /** Whether the person is looking at this page. */
  attended(): boolean {
    return document.visibilityState === 'visible' && document.hasFocus();
  }

  notify(n: { conversationId: string; messageId: string; reason: string }, open: (conversationId: string) => void): void {
    // The message frame comes just before its notify; let it land so the bubble can quote it.
    queueMicrotask(() => {
      const toast = document.createElement('button');
      toast.className = `toast ${n.reason}`;
      toast.dataset['testid'] = 'toast';
      toast.textContent = this.describe(n.conversationId, n.messageId);
      toast.dataset['conversation'] = n.conversationId;
      toast.onclick = () => {
        open(n.conversationId);
        toast.remove();
      };
      // One bubble per conversation (the latest message), and at most three on screen.
      for (const old of [...this.box.children]) if ((old as HTMLElement).dataset['conversation'] === n.conversationId) old.remove();
      while (this.box.children.length >= 3) this.box.firstElementChild!.remove();
      this.box.appendChild(toast);
      setTimeout(() => toast.remove(), 8_000);
      this.beep();
      this.desktop(toast.textContent ?? '', n.conversationId, open);
      if (document.hidden) this.flash();
    });
  }

  /** 'unsupported', 'denied', 'default' (not asked yet), 'on' or 'off' (allowed, turned off here). */
  desktopState(): 'unsupported' | 'denied' | 'default' | 'on' | 'off' {
    if (typeof Notification === 'undefined') return 'unsupported';
    if (Notification.permission !== 'granted') return Notification.permission === 'denied' ? 'denied' : 'default';
    return localStorage.getItem(DESKTOP_KEY) === 'off' ? 'off' : 'on';
  }

  /** Asks for permission (call it from a click) or turns desktop notifications on or off. */
  async setDesktop(on: boolean): Promise<void> {
    if (typeof Notification === 'undefined') return;
    localStorage.setItem(DESKTOP_KEY, on ? 'on' : 'off');
    if (on && Notification.permission === 'default') await Notification.requestPermission();
  }

  private desktop(text: string, conversationId: string, open: (conversationId: string) => void): void {
    if (this.desktopState() !== 'on' || this.attended()) return;
    try {
      const n = new Notification('Parley', { body: text, tag: conversationId });
      n.onclick = () => {
        window.focus();
        open(conversationId);
        n.close();
      };
    } catch {
      // Some browsers allow notifications only from a service worker: the bubble and sound remain.
    }
  }

  private beep(): void {
    const ctx = this.audio;
    if (!ctx || ctx.state !== 'running') return;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.18);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.2);
  }

  private flash(): void {
    if (this.flashing) return;
    let on = false;
    this.flashing = setInterval(() => {
      on = !on;
      document.title = on ? '● New message' : this.title;
    }, 1_000);
  }

  private stopFlashing(): void {
    if (this.flashing) clearInterval(this.flashing);
    this.flashing = null;
    document.title = this.title;
  }
}
