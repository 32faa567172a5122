import { useContext } from 'hono/jsx';
import { regionName } from '../../lib/regions.js';
import type { LetterRouting } from '../../services/letter-routing.js';
import { letterRoutings } from '../../services/letter-routing.js';
import type { SkippedTarget } from '../../services/letters.js';
import { mergedRegionsLabel, type RegionLine } from '../../letters/template/region-totals.js';
import type { RegionShare, RoutedTargetPreview, RoutingPreview } from '../../services/routing-preview.js';
import { interpolate } from '../i18n/index.js';
import { routingTexts } from './i18n/routing.js';
import { DashboardLanguageContext, formatNumber, useTexts } from './i18n/texts.js';

/**
 * The routing radio buttons of the generate-letters and letters-mailing forms (name `routing`),
 * and the choice to skip the targets whose letter would count no one (name `emptyTargets`).
 */
export function RoutingChoice(props: { value: string | undefined; emptyTargets: string | undefined; errors?: string[] | undefined; hint?: boolean }) {
  const t = useTexts(routingTexts);
  const chosen = props.value === 'jurisdiction' ? 'jurisdiction' : 'all';
  const label: Record<LetterRouting, string> = { all: t.routingAll, jurisdiction: t.routingJurisdiction };
  const describedBy = [props.hint ? 'h-routing' : '', props.errors ? 'e-routing' : ''].filter(Boolean).join(' ') || undefined;
  return (
    <fieldset class={props.errors ? 'field invalid' : 'field'} id="f-routing" aria-describedby={describedBy}>
      <legend>{t.routing}</legend>
      {letterRoutings.map((routing) => (
        <label>
          <input type="radio" name="routing" value={routing} checked={chosen === routing} /> {label[routing]}
        </label>
      ))}
      <label id="f-emptyTargets">
        <input type="checkbox" name="emptyTargets" value="skip" checked={props.emptyTargets === 'skip'} /> {t.skipEmptyTargets}
      </label>
      {props.hint ? (
        <p class="hint" id="h-routing">
          {t.routingHint}
        </p>
      ) : null}
      {props.errors ? (
        <p class="field-error" id="e-routing">
          {props.errors.join('; ')}
        </p>
      ) : null}
    </fieldset>
  );
}

/** The errors the routing fieldset shows: its own and those of the empty-targets choice inside it. */
export function routingErrors(errors: Record<string, string[] | undefined>): string[] | undefined {
  const found = [...(errors.routing ?? []), ...(errors.emptyTargets ?? [])];
  return found.length > 0 ? found : undefined;
}

/** How a batch or mailing routes, in a few words. */
export function routingLabel(texts: { routingAllShort: string; routingJurisdictionShort: string }, routing: LetterRouting): string {
  return routing === 'jurisdiction' ? texts.routingJurisdictionShort : texts.routingAllShort;
}

/** The supporters no jurisdiction covers, by region as stored. */
function RegionList(props: { shares: RegionShare[] }) {
  const t = useTexts(routingTexts);
  const language = useContext(DashboardLanguageContext);
  if (props.shares.length === 0) return <span class="muted">—</span>;
  return (
    <>
      {props.shares
        .map((share) => `${share.region === null ? `${t.noRegion} (${share.country})` : regionName(share.region, language)} ${formatNumber(language, share.count)}`)
        .join(' · ')}
    </>
  );
}

/** A letter's region table, as the letter prints it (small regions merged). */
function LetterRegions(props: { lines: RegionLine[]; minimum: number }) {
  const language = useContext(DashboardLanguageContext);
  if (props.lines.length === 0) return <span class="muted">—</span>;
  const label = (line: RegionLine) => (line.region === null ? mergedRegionsLabel(language, line.merges, props.minimum) : regionName(line.region, language));
  return <>{props.lines.map((line) => `${label(line)} ${formatNumber(language, line.count)}`).join(' · ')}</>;
}

/** A target's jurisdiction, its region codes named in the organiser's language. */
export function JurisdictionNames(props: { codes: readonly string[] }) {
  const language = useContext(DashboardLanguageContext);
  if (props.codes.length === 0) return <>—</>;
  return <>{props.codes.map((code) => regionName(code, language)).join(language === 'ja' ? '、' : ', ')}</>;
}

/** What a target's letter counts, and for the organiser what folding moved in or out of it. */
function LetterCount(props: { target: RoutedTargetPreview }) {
  const t = useTexts(routingTexts);
  const language = useContext(DashboardLanguageContext);
  const { target } = props;
  const count = formatNumber(language, target.count);
  return (
    <>
      {!target.letter ? <span class="muted">{`${count} (${t.noLetter})`}</span> : target.count === 0 ? <span class="muted">{`${count} (${t.totalOnly})`}</span> : count}
      {target.folded > 0 ? <div class="muted">{interpolate(t.foldedOut, { count: formatNumber(language, target.folded) })}</div> : null}
      {target.foldedIn > 0 ? <div class="muted">{interpolate(t.foldedIn, { count: formatNumber(language, target.foldedIn) })}</div> : null}
    </>
  );
}

/**
 * What routing by jurisdiction would write now: per target the count and region table its letter
 * would print, after folding small districts into the embassy's letter (how many were folded is
 * shown to the organiser, never in a letter). Counts only, never a name (the organiser sees who
 * signed elsewhere; this table is about what the letters say).
 */
export function RoutingPreviewTable(props: { preview: RoutingPreview; open: boolean }) {
  const t = useTexts(routingTexts);
  const language = useContext(DashboardLanguageContext);
  const { preview } = props;
  const kinds: Record<string, string> = { embassy: t.kindEmbassy, consulate: t.kindConsulate, official: t.kindOfficial, other: t.kindOther };
  const names = new Map(preview.targets.map((target) => [target.id, target.name]));
  return (
    <details class="card" id="routing-preview" open={props.open}>
      <summary>{t.previewTitle}</summary>
      {preview.targets.length === 0 ? (
        <p class="muted">{t.previewNoTargets}</p>
      ) : (
        <>
          <p>{interpolate(t.previewIntro, { total: formatNumber(language, preview.total) })}</p>
          <p class="muted">{interpolate(t.previewFolding, { minimum: formatNumber(language, preview.minimum) })}</p>
          <table>
            <thead>
              <tr>
                <th scope="col">{t.target}</th>
                <th scope="col">{t.kind}</th>
                <th scope="col">{t.jurisdiction}</th>
                <th scope="col" class="num">
                  {t.supporters}
                </th>
                <th scope="col">{t.regions}</th>
              </tr>
            </thead>
            <tbody>
              {preview.targets.map((target) => (
                <tr data-target={target.id}>
                  <td>
                    {target.name}
                    {target.takesUnserved ? <div class="muted">{t.alsoUnserved}</div> : null}
                  </td>
                  <td>{kinds[target.kind] ?? target.kind}</td>
                  <td>
                    <small>
                      <JurisdictionNames codes={target.jurisdiction} />
                    </small>
                  </td>
                  <td class="num">
                    <LetterCount target={target} />
                  </td>
                  <td>
                    <LetterRegions lines={target.byRegion} minimum={preview.minimum} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {preview.unserved.count > 0 ? (
            <p>
              {interpolate(t.previewUnserved, {
                count: formatNumber(language, preview.unserved.count),
                targets: preview.unserved.targetIds.map((id) => names.get(id) ?? id).join(', '),
              })}{' '}
              <span class="muted">
                (<RegionList shares={preview.unserved.byRegion} />)
              </span>
            </p>
          ) : null}
        </>
      )}
    </details>
  );
}

/** The targets a batch skipped because their letter would count no one. */
export function SkippedTargets(props: { skipped: SkippedTarget[] }) {
  const t = useTexts(routingTexts);
  if (props.skipped.length === 0) return null;
  return (
    <p class="muted skipped-targets">
      {t.skippedTitle}: {props.skipped.map((target) => target.targetName).join(', ')} ({t.skippedReason})
    </p>
  );
}
