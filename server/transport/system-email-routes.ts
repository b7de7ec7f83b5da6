import { EscalationTemplatePreviewSchema, EscalationTemplateSchema, ProtocolError, SystemEmailKindSchema, SystemEmailPostSchema, SystemTemplatePreviewSchema, SystemTemplateSchema, TemplateLanguageSchema } from '../../protocol/index.js';
import type { SystemEmails } from '../core/system-emails/system-emails.js';
import type { HttpRouter } from './http.js';

function kindOf(value: string | undefined) {
  const r = SystemEmailKindSchema.safeParse(value);
  if (!r.success) throw new ProtocolError('not_found', 'no such system email kind');
  return r.data;
}

/** The escalation email picks its texts by the recipient's language part (`de` for `de-AT`): so a language here is just that. */
function langOf(value: string | undefined): string {
  const r = TemplateLanguageSchema.safeParse(value);
  if (!r.success || !/^[A-Za-z]{2,3}$/.test(r.data)) throw new ProtocolError('invalid', 'invalid language: a language code such as en or de');
  return r.data.toLowerCase();
}

/** System emails and editable templates over HTTP (NOTIFICATIONS §8). */
export function registerSystemEmailRoutes(router: HttpRouter, deps: { systemEmails: SystemEmails }): void {
  const { systemEmails } = deps;
  router.add({
    method: 'post',
    pattern: '/v1/system-emails',
    auth: true,
    admin: true,
    body: SystemEmailPostSchema,
    handle: async ({ body }) => {
      const answer = await systemEmails.send(body);
      return { status: answer.emailId === null ? 200 : 202, body: answer };
    },
  });
  router.add({
    method: 'get',
    pattern: '/v1/system-emails/templates/:kind',
    auth: true,
    admin: true,
    handle: async ({ params }) => ({ status: 200, body: await systemEmails.template(kindOf(params[0])) }),
  });
  router.add({
    method: 'put',
    pattern: '/v1/system-emails/templates/:kind',
    auth: true,
    admin: true,
    body: SystemTemplateSchema,
    handle: async ({ params, body }) => ({ status: 200, body: await systemEmails.putTemplate(kindOf(params[0]), body) }),
  });
  router.add({
    method: 'post',
    pattern: '/v1/system-emails/templates/:kind/preview',
    auth: true,
    admin: true,
    body: SystemTemplatePreviewSchema,
    handle: async ({ params, body }) => ({ status: 200, body: await systemEmails.preview(kindOf(params[0]), body) }),
  });
  router.add({
    method: 'get',
    pattern: '/v1/templates/escalation/:lang',
    auth: true,
    admin: true,
    handle: async ({ params }) => ({ status: 200, body: await systemEmails.escalationTemplate(langOf(params[0])) }),
  });
  router.add({
    method: 'put',
    pattern: '/v1/templates/escalation/:lang',
    auth: true,
    admin: true,
    body: EscalationTemplateSchema,
    handle: async ({ params, body }) => ({ status: 200, body: await systemEmails.putEscalationTemplate(langOf(params[0]), body) }),
  });
  router.add({
    method: 'post',
    pattern: '/v1/templates/escalation/:lang/preview',
    auth: true,
    admin: true,
    body: EscalationTemplatePreviewSchema,
    handle: async ({ params, body }) => ({ status: 200, body: await systemEmails.previewEscalation(langOf(params[0]), body) }),
  });
}
