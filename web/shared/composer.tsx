import { useState } from 'preact/hooks';

/** The message box of both front ends: Enter sends, Shift+Enter breaks the line, typing is reported. */
export function Composer({ label, onSend, onTyping }: { label: string; onSend: (body: string) => void; onTyping: () => void }) {
  const [text, setText] = useState('');
  const submit = () => {
    const body = text.trim();
    if (!body) return;
    setText('');
    onSend(body);
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <textarea
        aria-label={label}
        placeholder="Write a message…"
        rows={2}
        value={text}
        onInput={(e) => {
          setText((e.target as HTMLTextAreaElement).value);
          onTyping();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <button type="submit">Send</button>
    </form>
  );
}
