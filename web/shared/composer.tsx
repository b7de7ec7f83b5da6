import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export interface ComposerProps {
  label: string;
  onSend: (body: string) => void;
  onTyping: () => void;
  /** Shown above the box, e.g. who will read what is written here. */
  notice?: ComponentChildren;
  /** A class for the form, e.g. `internal` to colour it. */
  tone?: string;
  placeholder?: string;
}

/**
 * The message box of both front ends: Enter sends, Shift+Enter breaks the line, typing is reported.
 * Its children stay the form's direct children (a notice, when given, comes first).
 */
export function Composer({ label, onSend, onTyping, notice, tone, placeholder }: ComposerProps) {
  const [text, setText] = useState('');
  const submit = () => {
    const body = text.trim();
    if (!body) return;
    setText('');
    onSend(body);
  };
  return (
    <form
      class={`composer${tone ? ` ${tone}` : ''}`}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {notice && (
        <div class="composer-notice" data-testid="composer-notice">
          {notice}
        </div>
      )}
      <textarea
        aria-label={label}
        placeholder={placeholder ?? 'Write a message…'}
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
