/** The widget's styles, inside its shadow root: nothing leaks in from the page or out to it. */
export const WIDGET_CSS = `
:host { all: initial; }
.parley { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; font: 14px/1.4 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1f2430; }
.launcher { width: 56px; height: 56px; border-radius: 50%; border: 0; background: #3b5bdb; color: #fff; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); position: relative; float: right; }
.launcher svg { width: 26px; height: 26px; fill: currentColor; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 20px; height: 20px; border-radius: 10px; background: #e03131; color: #fff; font-size: 12px; line-height: 20px; }
.panel { width: 340px; height: 480px; margin-bottom: 12px; background: #fff; border-radius: 14px; box-shadow: 0 8px 30px rgba(0,0,0,.2); display: flex; flex-direction: column; overflow: hidden; }
header { display: flex; justify-content: space-between; align-items: center; padding: 12px 14px; background: #3b5bdb; color: #fff; }
header strong { display: block; font-size: 15px; }
.status { font-size: 12px; opacity: .85; }
.status.online::before { content: ''; display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: #51cf66; margin-right: 6px; }
.close { background: none; border: 0; color: #fff; font-size: 22px; cursor: pointer; }
.messages { flex: 1; overflow-y: auto; padding: 12px; background: #f6f7fb; display: flex; flex-direction: column; gap: 6px; }
.empty { color: #868e96; text-align: center; margin-top: 40px; }
.msg { max-width: 80%; padding: 7px 10px; border-radius: 12px; white-space: pre-wrap; word-wrap: break-word; }
.msg.theirs { align-self: flex-start; background: #fff; border: 1px solid #e9ecef; }
.msg.mine { align-self: flex-end; background: #3b5bdb; color: #fff; }
.msg.pending { opacity: .7; }
.msg.failed { background: #ffe3e3; color: #c92a2a; }
.meta { font-size: 11px; opacity: .75; text-align: right; margin-top: 2px; }
.tick { margin-left: 6px; }
.typing, .offline { font-size: 12px; color: #868e96; padding: 2px 14px; background: #f6f7fb; }
.composer { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e9ecef; }
.composer textarea { flex: 1; resize: none; border: 1px solid #ced4da; border-radius: 8px; padding: 6px 8px; font: inherit; }
.composer button { border: 0; border-radius: 8px; background: #3b5bdb; color: #fff; padding: 0 14px; cursor: pointer; font: inherit; }
footer { font-size: 11px; color: #868e96; padding: 0 12px 10px; }
`;
