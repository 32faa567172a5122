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
import { type AdminEnv, requireAdminScope, safeNext } from './admin-env.js';
import { CsrfField, StatusBadge } from './admin-layout.js';
import type { AdminSession } from '../../services/admin-sessions.js';
import { formErrorOf, messagePage, missingScopePage, Notice, renderPage } from './admin-page.js';

const nextPrintSteps: Record<string, { status: string; label: string }[]> = {
  queued: [{ status: 'printed', label: 'Mark printed' }],
  printed: [{ status: 'posted', label: 'Mark posted' }],
  posted: [
    { status: 'delivered', label: 'Mark delivered' },
    { status: 'returned', label: 'Mark returned' },
  ],
};

/** The buttons that move a print delivery on; `posted` asks for a tracking number. */
function PrintSteps(props: { session: AdminSession; delivery: DeliveryView; back: string }) {
  const steps = props.delivery.channel === 'print' ? (nextPrintSteps[props.delivery.status] ?? []) : [];
  return (
    <>
      {steps.map((step) => (
        <form method="post" action={`/admin/deliveries/${props.delivery.id}`} class="actions">
          <CsrfField session={props.session} />
          <input type="hidden" name="status" value={step.status} />
          <input type="hidden" name="back" value={props.back} />
          {step.status === 'posted' ? (
            <>
              <label for={`tracking-${props.delivery.id}`}>Tracking number</label>
              <input id={`tracking-${props.delivery.id}`} name="trackingNumber" type="text" />
            </>
          ) : null}
          <button type="submit" class="secondary">
            {step.label}
          </button>
        </form>
      ))}
    </>
  );
}

/** Deliveries and the print queue (scope `deliveries`). */
export function deliveryPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/deliveries', requireAdminScope('deliveries', missingScopePage));
  routes.use('/deliveries/*', requireAdminScope('deliveries', missingScopePage));
  routes.use('/print-queue', requireAdminScope('deliveries', missingScopePage));
  routes.use('/print-queue.pdf', requireAdminScope('deliveries', missingScopePage));

  routes.get('/deliveries', async (c) => {
    const { ctx } = c.get('services');
    const parsed = v.safeParse(DeliveryListQuery, c.req.query());
    const query = parsed.success ? parsed.output : { limit: 50 };
    const [page, directory] = await Promise.all([listDeliveries(ctx, query), listTargets(ctx, { limit: 500 })]);
    const names = new Map(directory.items.map((t) => [t.id, t.name]));
    const here = `/admin/deliveries${new URL(c.req.url).search}`;
    const filter = parsed.success ? parsed.output : {};
    return renderPage(
      c,
      { title: 'Deliveries', section: 'deliveries' },
      <>
        <h1>Deliveries</h1>
        <Notice done={c.req.query('done')} />
        {!parsed.success ? <p class="error">The filter was not understood, so every delivery is shown.</p> : null}
        <form method="get" action="/admin/deliveries" class="actions">
          <label for="f-status">Status</label>
          <select id="f-status" name="status">
            <option value="">any</option>
            {deliveryStatuses.map((s) => (
              <option value={s} selected={'status' in filter && filter.status === s}>
                {s}
              </option>
            ))}
          </select>
          <label for="f-channel">Channel</label>
          <select id="f-channel" name="channel">
            <option value="">any</option>
            {deliveryChannels.map((ch) => (
              <option value={ch} selected={'channel' in filter && filter.channel === ch}>
                {ch}
              </option>
            ))}
          </select>
          <button type="submit" class="secondary">
            Filter
          </button>
          <a href="/admin/print-queue">Print queue</a>
        </form>
        {page.items.length === 0 ? (
          <p class="muted">No deliveries.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Campaign</th>
                <th scope="col">Target</th>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col">Tracking / error</th>
                <th scope="col">Next step</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((d) => (
                <tr>
                  <td>{d.createdAt.slice(0, 16).replace('T', ' ')} UTC</td>
                  <td>
                    <a href={`/admin/campaigns/${encodeURIComponent(d.campaign)}`}>{d.campaign}</a>
                  </td>
                  <td>
                    <a href={`/admin/letters/${d.letterId}`}>{names.get(d.targetId) ?? d.targetId}</a>
                  </td>
                  <td>{d.channel}</td>
                  <td>
                    <StatusBadge status={d.status} />
                  </td>
                  <td class="num">{d.attempts}</td>
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
            <a href={`/admin/deliveries?cursor=${encodeURIComponent(page.nextCursor)}`}>Older deliveries →</a>
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
    if (!parsed.success) return messagePage(c, 422, 'Delivery not changed', parsed.issues.map((i) => i.message).join('; '), { href: back, label: 'Back' });
    try {
      await updateDelivery(c.get('services').ctx, c.req.param('id'), parsed.output);
    } catch (error) {
      const problem = formErrorOf(error);
      if (!problem || problem.status === 404) throw error;
      return messagePage(c, problem.status, 'Delivery not changed', problem.message ?? Object.values(problem.errors).flat().join('; '), { href: back, label: 'Back' });
    }
    const separator = back.includes('?') ? '&' : '?';
    return c.redirect(`${back.replace(/[?&]done=[^&]*/, '')}${separator}done=delivery-updated`, 303);
  });

  routes.get('/print-queue', async (c) => {
    const { items } = await listPrintQueue(c.get('services').ctx);
    const pages = items.reduce((sum, i) => sum + i.pages, 0);
    return renderPage(
      c,
      { title: 'Print queue', section: 'print-queue' },
      <>
        <h1>Print queue</h1>
        <Notice done={c.req.query('done')} />
        <p>
          {items.length} letter{items.length === 1 ? '' : 's'}, {pages} page{pages === 1 ? '' : 's'} to print, in envelope order.{' '}
          {items.length > 0 ? <a href="/admin/print-queue.pdf">Download everything as one PDF</a> : null}
        </p>
        <p class="muted">After printing, mark each letter printed; then posted (with its tracking number) and delivered or returned on the deliveries page.</p>
        {items.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">Recipient</th>
                <th scope="col">Address</th>
                <th scope="col" class="num">
                  Pages
                </th>
                <th scope="col">Queued</th>
                <th scope="col">Next step</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr>
                  <td>{item.campaignTitle}</td>
                  <td>
                    <a href={`/admin/letters/${item.letterId}`}>{item.target.name}</a>
                    {item.target.organisation ? <div class="muted">{item.target.organisation}</div> : null}
                  </td>
                  <td>
                    {[...item.target.postalAddress.lines, item.target.postalAddress.postalCode, item.target.postalAddress.city, item.target.postalAddress.country]
                      .filter(Boolean)
                      .join(', ')}
                  </td>
                  <td class="num">{item.pages}</td>
                  <td>{item.createdAt.slice(0, 16).replace('T', ' ')} UTC</td>
                  <td>
                    <form method="post" action={`/admin/deliveries/${item.id}`} class="inline">
                      <CsrfField session={c.var.session} />
                      <input type="hidden" name="status" value="printed" />
                      <input type="hidden" name="back" value="/admin/print-queue" />
                      <button type="submit" class="secondary">
                        Mark printed
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
    const queue = await buildPrintQueuePdf(services.ctx, services.letters);
    return c.body(queue.pdf, 200, pdfHeaders(queue.filename, { bytes: queue.pdf.byteLength }));
  });

  return routes;
}
