import nodemailer from 'nodemailer';
import type { Sender } from '../model.js';
import { alertLine, plainText } from './text.js';

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * E-mail over SMTP (nodemailer): plain text and a simple HTML list. `tls` is `tls` (implicit
 * TLS, usually port 465), `starttls` (upgrade required) or `none`; `username` with the sealed
 * `password` authenticates. The connection, greeting and socket all time out at `timeoutMs`.
 */
export const emailSender: Sender = {
  async send(channel, message, timeoutMs) {
    const s = channel.settings;
    const mode = (s.tls as string | undefined) ?? 'starttls';
    const password = channel.secrets.password;
    const transport = nodemailer.createTransport({
      host: String(s.host),
      port: Number(s.port ?? (mode === 'tls' ? 465 : 587)),
      secure: mode === 'tls',
      requireTLS: mode === 'starttls',
      ignoreTLS: mode === 'none',
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      ...(typeof s.username === 'string' && s.username
        ? { auth: { user: s.username, pass: typeof password === 'string' ? password : '' } }
        : {}),
    });
    try {
      const html = `<h2>${esc(message.title)}</h2><ul>${message.alerts
        .map((a) => `<li>${esc(alertLine(a))}</li>`)
        .join('')}</ul>`;
      const info = await transport.sendMail({
        from: String(s.from),
        to: (s.to as string[]).join(', '),
        subject: message.title,
        text: plainText(message),
        html,
      });
      const code = /^(\d{3})/.exec(String(info.response ?? ''))?.[1];
      return code ? { status: Number(code) } : {};
    } catch (err) {
      throw new Error(`SMTP ${String(s.host)}: ${(err as Error).message}`, { cause: err });
    } finally {
      transport.close();
    }
  },
};
