// Polls the simulation's state for the web view — on a short interval while a page listens, slower
// otherwise so that the timeline of scale events covers the whole run — sends each changed LiveView to
// the listeners and keeps the timeline. Polling the API (rather than hooking node internals) works the
// same in-process and with one process per node.
import type { ApiHandler } from '../api/api-router.ts';
import { LiveStateReader } from './live-state.ts';
import { timelineChanges } from './timeline.ts';
import type { LiveView, TimelineEntry } from './view-model.ts';

export interface LiveListener {
  view(view: LiveView): void;
  timeline(entry: TimelineEntry): void;
  error(message: string): void;
}

const TIMELINE_KEPT = 500;

export class LiveWatcher {
  private readonly reader: LiveStateReader;
  private readonly listeners = new Set<LiveListener>();
  private readonly entries: TimelineEntry[] = [];
  private last: LiveView | null = null;
  private lastKey = '';
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private stopped = false;
  private seq = 0;

  constructor(
    api: ApiHandler,
    private readonly intervalMs = 400,
    private readonly idleIntervalMs = 1500,
  ) {
    this.reader = new LiveStateReader(api);
    this.schedule(0);
  }

  /** Stops polling for good (the simulation is going away). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll().finally(() => this.schedule(this.listeners.size > 0 ? this.intervalMs : this.idleIntervalMs));
    }, delayMs);
    // Polling alone never keeps the process alive.
    this.timer.unref();
  }

  /** Sends the timeline so far and the current view at once, then every change; returns the unsubscribe. */
  subscribe(listener: LiveListener): () => void {
    for (const e of this.entries) listener.timeline(e);
    if (this.last) listener.view(this.last);
    this.listeners.add(listener);
    // A new page gets a fresh view now rather than at the end of an idle interval.
    if (this.listeners.size === 1 && !this.polling) this.schedule(0);
    return () => {
      this.listeners.delete(listener);
    };
  }

  get timeline(): readonly TimelineEntry[] {
    return this.entries;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const view = await this.reader.read();
      // The time stamp always differs; compare the rest.
      const key = JSON.stringify({ ...view, time: '' });
      if (key === this.lastKey) return;
      if (this.last) {
        for (const draft of timelineChanges(this.last, view)) {
          const entry: TimelineEntry = { seq: ++this.seq, time: view.time, ...draft };
          this.entries.push(entry);
          if (this.entries.length > TIMELINE_KEPT) this.entries.shift();
          for (const l of this.listeners) l.timeline(entry);
        }
      }
      this.last = view;
      this.lastKey = key;
      for (const l of this.listeners) l.view(view);
    } catch (e) {
      for (const l of this.listeners) l.error((e as Error).message);
    } finally {
      this.polling = false;
    }
  }
}
