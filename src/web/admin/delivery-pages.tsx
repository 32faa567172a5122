import { Hono } from 'hono';
import * as v from 'valibot';
import { pdfHeaders } from '../../http/content-disposition.js';
import {
  buildPrintQueuePdf,
  DeliveryListQuery,
  deliveryChannels,
  deliveryStatuses,
  listDeliveries,
  listPrintQueue,
  updateDelivery,
  UpdateDeliveryInput,
  type DeliveryView,
} from '../../services/deliveries.js';
import { listTargets } from '../../services/targets.js';
import { type AdminEnv, can, requireAdminScope, safeNext } from './admin-env.js';
import { CsrfField, StatusBadge } from './admin-layout.js';
import type { AdminSession } from '../../services/admin-sessions.js';
import { formErrorOf, messagePage, missingScopePage, Notice, renderPage } from './admin-page.js';
import { interpolate } from '../i18n/index.js';
import { channelTexts, commonTexts, statusTexts } from './i18n/common.js';
import { deliveryTexts } from './i18n/deliveries.js';
import { formatDateTime, formatNumber, textsFor, type TextsOf, useTexts } from './i18n/texts.js';
import { serviceContextOf } from '../../http/principal.js';
import { addressOnOneLine } from '../../letters/template/postal-address.js';
import { letterPostalAddress } from '../../services/organisation.js';
import { countryName } from '../i18n/countries.js';
import { campaignNames, CampaignLink } from './campaign-names.js';

const nextPrintSteps: Record<string, { status: string; label: keyof TextsOf<typeof deliveryTexts> }[]> = {
  queued: [{ status: 'printed', label: 'markPrinted' }],
  printed: [{ status: 'posted', label: 'markPosted' }],
  posted: [
    { status: 'delivered', label: 'markDelivered' },
    { status: 'returned', label: 'markReturned' },
  ],
};

/** The buttons that move a print delivery on; `posted` asks for a tracking number. */
function PrintSteps(props: { session: AdminSession; delivery: DeliveryView; back: string }) {
  const steps = props.delivery.channel === 'print' ? (nextPrintSteps[props.delivery.status] ?? []) : [];
  const t = useTexts(deliveryTexts);
  return (
    <>
      {steps.map((step) => (
        <form method="post" action={`/admin/deliveries/${props.delivery.id}`} class="actions">
          <CsrfField session={props.session} />
          <input type="hidden" name="status" value={step.status} />
          <input type="hidden" name="back" value={props.back} />
          {step.status === 'posted' ? (
            <>
              <label for={`tracking-${props.delivery.id}`}>{t.trackingNumber}</label>
              <input id={`tracking-${props.delivery.id}`} name="trackingNumber" type="text" />
            </>
          ) : null}
          <button type="submit" class="secondary">
            {t[step.label]}
          </button>
        </form>
      ))}
    </>
  );
}

/** Deliveries and the print queue (scope `deliveries`; the queue's PDF `letters` as well). */
export function deliveryPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/deliveries', requireAdminScope('deliveries', missingScopePage));
  routes.use('/deliveries/*', requireAdminScope('deliveries', missingScopePage));
  routes.use('/print-queue', requireAdminScope('deliveries', missingScopePage));
  // The PDF holds the letters themselves, signatories included: letters as well, as on the API.
  routes.use('/print-queue.pdf', requireAdminScope('deliveries', missingScopePage), requireAdminScope('letters', missingScopePage));

  routes.get('/deliveries', async (c) => {
    const ctx = serviceContextOf(c);
    const parsed = v.safeParse(DeliveryListQuery, c.req.query());
    const query = parsed.success ? parsed.output : { limit: 50 };
    const [page, directory] = await Promise.all([listDeliveries(ctx, query), listTargets(ctx, { limit: 500 })]);
    const campaignsShown = await campaignNames(ctx, page.items.map((d) => d.campaign));
    const names = new Map(directory.items.map((t) => [t.id, t.name]));
    const here = `/admin/deliveries${new URL(c.req.url).search}`;
    const filter = parsed.success ? parsed.output : {};
    const t = textsFor(c, deliveryTexts);
    const any = textsFor(c, commonTexts).anyValue;
    const statuses = textsFor(c, statusTexts);
    const channels = textsFor(c, channelTexts);
    const language = c.var.language;
    return renderPage(
      c,
      { title: t.deliveries, section: 'deliveries' },
      <>
        <h1>{t.deliveries}</h1>
        <Notice done={c.req.query('done')} />
        {!parsed.success ? <p class="error">{t.filterNotUnderstood}</p> : null}
        <form method="get" action="/admin/deliveries" class="actions">
          <label for="f-status">{t.status}</label>
          <select id="f-status" name="status">
            <option value="">{any}</option>
            {deliveryStatuses.map((s) => (
              <option value={s} selected={'status' in filter && filter.status === s}>
                {statuses[s]}
              </option>
            ))}
          </select>
          <label for="f-channel">{t.channel}</label>
          <select id="f-channel" name="channel">
            <option value="">{any}</option>
            {deliveryChannels.map((ch) => (
              <option value={ch} selected={'channel' in filter && filter.channel === ch}>
                {channels[ch]}
              </option>
            ))}
          </select>
          <button type="submit" class="secondary">
            {t.filter}
          </button>
          <a href="/admin/print-queue">{t.printQueue}</a>
        </form>
        {page.items.length === 0 ? (
          <p class="muted">{t.noDeliveries}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t.created}</th>
                <th scope="col">{t.campaign}</th>
                <th scope="col">{t.target}</th>
                <th scope="col">{t.channel}</th>
                <th scope="col">{t.status}</th>
                <th scope="col" class="num">
                  {t.attempts}
                </th>
                <th scope="col">{t.trackingOrError}</th>
                <th scope="col">{t.nextStep}</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((d) => (
                <tr>
                  <td>{formatDateTime(language, d.createdAt, campaignsShown.timeZone(d.campaign))}</td>
                  <td>
                    <CampaignLink slug={d.campaign} title={campaignsShown.title(d.campaign, language)} />
                  </td>
                  <td>
                    <a href={`/admin/letters/${d.letterId}`}>{names.get(d.targetId) ?? d.targetId}</a>
                  </td>
                  <td>{channels[d.channel]}</td>
                  <td>
                    <StatusBadge status={d.status} />
                  </td>
                  <td class="num">{formatNumber(language, d.attempts)}</td>
                  <td>{d.trackingNumber ?? d.lastError ?? '—'}</td>
                  <td>
                    <PrintSteps session={c.var.session} delivery={d} back={here} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {page.nextCursor ? (
          <p>
            <a href={`/admin/deliveries?cursor=${encodeURIComponent(page.nextCursor)}`}>{t.olderDeliveries}</a>
          </p>
        ) : null}
      </>,
    );
  });

  routes.post('/deliveries/:id', async (c) => {
    const form = c.var.form;
    const back = safeNext(form.back || '/admin/deliveries');
    const input: Record<string, unknown> = { status: form.status ?? '' };
    if (form.trackingNumber?.trim()) input.trackingNumber = form.trackingNumber;
    const parsed = v.safeParse(UpdateDeliveryInput, input);
    const t = textsFor(c, deliveryTexts);
    if (!parsed.success) return messagePage(c, 422, t.deliveryNotChanged, parsed.issues.map((i) => i.message).join('; '), { href: back, label: t.back });
    try {
      await updateDelivery(serviceContextOf(c), c.req.param('id'), parsed.output);
    } catch (error) {
      const problem = formErrorOf(error, c);
      if (!problem || problem.status === 404) throw error;
      return messagePage(c, problem.status, t.deliveryNotChanged, problem.message ?? Object.values(problem.errors).flat().join('; '), { href: back, label: t.back });
    }
    const separator = back.includes('?') ? '&' : '?';
    return c.redirect(`${back.replace(/[?&]done=[^&]*/, '')}${separator}done=delivery-updated`, 303);
  });

  routes.get('/print-queue', async (c) => {
    const ctx = serviceContextOf(c);
    const { items } = await listPrintQueue(ctx);
    const campaignsShown = await campaignNames(ctx, items.map((item) => item.campaign));
    const pages = items.reduce((sum, i) => sum + i.pages, 0);
    const t = textsFor(c, deliveryTexts);
    const language = c.var.language;
    const summary =
      items.length === 1 ? (pages === 1 ? t.queueSummary : t.queueSummaryPagesPlural) : pages === 1 ? t.queueSummaryLettersPlural : t.queueSummaryPlural;
    return renderPage(
      c,
      { title: t.printQueue, section: 'print-queue' },
      <>
        <h1>{t.printQueue}</h1>
        <Notice done={c.req.query('done')} />
        <p>
          {interpolate(summary, { letters: formatNumber(language, items.length), pages: formatNumber(language, pages) })}{' '}
          {items.length > 0 && can(c, 'letters') ? <a href="/admin/print-queue.pdf">{t.downloadAll}</a> : null}
        </p>
        <p class="muted">{t.queueHelp}</p>
        {items.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th scope="col">{t.campaign}</th>
                <th scope="col">{t.recipient}</th>
                <th scope="col">{t.address}</th>
                <th scope="col" class="num">
                  {t.pages}
                </th>
                <th scope="col">{t.queued}</th>
                <th scope="col">{t.nextStep}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr>
                  <td>
                    <CampaignLink slug={item.campaign} title={campaignsShown.title(item.campaign, language)} />
                  </td>
                  <td>
                    <a href={`/admin/letters/${item.letterId}`}>{item.target.name}</a>
                    {item.target.organisation ? <div class="muted">{item.target.organisation}</div> : null}
                  </td>
                  <td>{addressOnOneLine(letterPostalAddress(item.target.postalAddress), (code) => countryName(code, language))}</td>
                  <td class="num">{formatNumber(language, item.pages)}</td>
                  <td>{formatDateTime(language, item.createdAt, campaignsShown.timeZone(item.campaign))}</td>
                  <td>
                    <form method="post" action={`/admin/deliveries/${item.id}`} class="inline">
                      <CsrfField session={c.var.session} />
                      <input type="hidden" name="status" value="printed" />
                      <input type="hidden" name="back" value="/admin/print-queue" />
                      <button type="submit" class="secondary">
                        {t.markPrinted}
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </>,
    );
  });

  routes.get('/print-queue.pdf', async (c) => {
    const services = c.get('services');
    const queue = await buildPrintQueuePdf(serviceContextOf(c), services.letters);
    return c.body(queue.pdf, 200, pdfHeaders(queue.filename, { bytes: queue.pdf.byteLength }));
  });

  return routes;
}
