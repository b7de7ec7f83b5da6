/**
 * Styles of the customer's views. CONVERSATION_CSS is shared by the widget and the customer page
 * (/chat/); WIDGET_CSS adds the launcher and panel (inside the widget's shadow root, so nothing leaks
 * in from the host page or out to it); CHAT_CSS lays out the customer page (dist/assets/chat/chat.css,
 * written by web/build.mjs: the hub's CSP allows no inline styles). Colours meet WCAG AA contrast;
 * inputs are 16 px so iOS does not zoom in.
 */
const CONVERSATION_CSS = `
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
header { display: flex; gap: 8px; align-items: center; padding: 10px 12px; background: #364fc7; color: #fff; }
header .heading { flex: 1; min-width: 0; }
header .title { display: block; font-size: 16px; margin: 0; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
header button { background: none; border: 0; color: #fff; cursor: pointer; font: inherit; border-radius: 6px; min-width: 36px; min-height: 36px; }
header .close { font-size: 24px; line-height: 1; }
header .back { font-size: 26px; line-height: 1; }
header button:focus-visible { outline: 2px solid #fff; outline-offset: 1px; }
.status { font-size: 12px; }
.status.online::before { content: ''; display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: #8ce99a; margin-right: 6px; }
.banner { display: flex; gap: 8px; align-items: center; justify-content: space-between; padding: 8px 12px; font-size: 13px; }
.banner.offline { background: #fff3bf; color: #5c3c00; }
.banner.error { background: #fff0f0; color: #a61e1e; }
.banner button { border: 1px solid currentColor; background: #fff; color: inherit; border-radius: 6px; padding: 4px 10px; cursor: pointer; font: inherit; }
.messages { flex: 1; min-height: 0; overflow-y: auto; padding: 12px; background: #f6f7fb; display: flex; flex-direction: column; gap: 6px; }
.messages:focus-visible { outline: 2px solid #364fc7; outline-offset: -2px; }
.empty { color: #495057; text-align: center; margin-top: 40px; }
.msg { max-width: 80%; padding: 7px 10px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.theirs { align-self: flex-start; background: #fff; border: 1px solid #dee2e6; }
.msg.mine { align-self: flex-end; background: #364fc7; color: #fff; }
.msg.pending { background: #dbe4ff; color: #1f2430; }
.msg.failed { background: #fff0f0; color: #a61e1e; border: 1px solid #ffa8a8; }
.msg .md p { margin: 0; }
.msg a { color: inherit; }
.meta { font-size: 12px; text-align: right; margin-top: 2px; display: flex; gap: 6px; justify-content: flex-end; align-items: center; }
.retry { border: 1px solid currentColor; background: #fff; color: #a61e1e; border-radius: 6px; padding: 1px 8px; cursor: pointer; font: inherit; }
.typing { font-size: 13px; color: #495057; padding: 2px 14px; background: #f6f7fb; }
.composer { display: flex; flex-wrap: wrap; gap: 8px; padding: 10px; border-top: 1px solid #dee2e6; background: #fff; }
.composer-notice { flex-basis: 100%; font-size: 12px; color: #495057; }
.composer textarea { flex: 1; min-width: 0; resize: none; border: 1px solid #868e96; border-radius: 8px; padding: 6px 8px; font: inherit; font-size: 16px; color: #1f2430; background: #fff; }
.composer textarea:focus-visible { outline: 2px solid #364fc7; outline-offset: 0; }
.composer button { border: 0; border-radius: 8px; background: #364fc7; color: #fff; padding: 0 14px; min-height: 40px; cursor: pointer; font: inherit; font-size: 16px; }
.composer button:focus-visible, .conv:focus-visible, .retry:focus-visible, .banner button:focus-visible { outline: 2px solid #1f2430; outline-offset: 2px; }
footer { font-size: 12px; color: #495057; padding: 0 12px 10px; background: #fff; }
`;

export const WIDGET_CSS = `
:host { all: initial; }
.parley { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; font: 14px/1.4 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1f2430; }
.parley *, .parley *::before { box-sizing: border-box; }
.launcher { width: 56px; height: 56px; border-radius: 50%; border: 0; background: #364fc7; color: #fff; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); position: relative; float: right; }
.launcher:focus-visible { outline: 3px solid #1f2430; outline-offset: 3px; }
.launcher svg { width: 26px; height: 26px; fill: currentColor; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 5px; border-radius: 11px; background: #c92a2a; color: #fff; font: 700 12px/22px system-ui, sans-serif; }
.panel { width: 360px; height: min(540px, calc(100vh - 110px)); margin-bottom: 12px; background: #fff; border-radius: 14px; box-shadow: 0 8px 30px rgba(0,0,0,.2); display: flex; flex-direction: column; overflow: hidden; }
.home { flex: 1; min-height: 0; overflow-y: auto; background: #f6f7fb; padding: 8px 10px; }
.list-title { font-size: 13px; color: #495057; margin: 6px 4px; font-weight: 600; }
.conversations { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.conv { display: flex; width: 100%; gap: 8px; justify-content: space-between; align-items: center; text-align: left; background: #fff; border: 1px solid #dee2e6; border-radius: 10px; padding: 10px 12px; cursor: pointer; font: inherit; color: #1f2430; min-height: 44px; }
.conv:hover { border-color: #364fc7; }
.conv-title { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-weight: 600; }
.conv-meta { display: flex; gap: 6px; align-items: center; flex-shrink: 0; font-size: 12px; color: #495057; }
.count { background: #c92a2a; color: #fff; border-radius: 10px; min-width: 20px; padding: 0 6px; line-height: 20px; text-align: center; font-weight: 700; }
${CONVERSATION_CSS}
@media (max-width: 480px) {
  .parley { right: 12px; bottom: 12px; }
  .parley.is-open { inset: 0; }
  .parley.is-open .launcher { display: none; }
  .parley.is-open .panel { width: 100%; height: 100%; margin: 0; border-radius: 0; }
}
`;

/** The customer page (/chat/): the conversation over the whole window. */
export const CHAT_CSS = `
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1f2430; background: #f6f7fb; }
#chat { height: 100%; }
.page { display: flex; flex-direction: column; height: 100%; max-width: 760px; margin: 0 auto; background: #fff; }
.notice { padding: 24px 16px; text-align: center; color: #1f2430; }
.notice h1 { font-size: 20px; }
${CONVERSATION_CSS}
`;
