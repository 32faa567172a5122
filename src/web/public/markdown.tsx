import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { memoByContent } from '../../markdown/content-cache.js';
import { extractMarkdownLinks, linkPlaceholder, type MarkdownLink } from '../../markdown/markdown-links.js';
import { parseInline, parseMarkdown, type InlineSpan } from '../../markdown/markdown.js';

/**
 * An organiser's campaign body (Markdown) as page elements. The dialect is
 * the letters' and update emails' one (src/markdown/markdown.ts, with links as
 * in src/mail/markdown-email.ts): paragraphs, headings, lists, emphasis and
 * `[label](url)`, `<url>` or bare-URL links. Nothing the organiser typed is
 * markup: every character goes through hono/jsx's escaping, and only
 * http(s) and mailto URLs become links (rel="nofollow noopener"); any other
 * link keeps its label as text.
 */
function withBreaks(text: string): Child[] {
  return text.split('\n').flatMap((line, index) => (index === 0 ? [line] : [<br />, line]));
}

function renderText(value: string, links: MarkdownLink[]): Child[] {
  const out: Child[] = [];
  let last = 0;
  for (const match of value.matchAll(linkPlaceholder)) {
    out.push(...withBreaks(value.slice(last, match.index)));
    last = match.index + match[0].length;
    const link = links[Number(match[1])];
    if (!link) continue;
    const label = renderSpans(parseInline(link.label), []);
    out.push(link.url ? <a href={link.url} rel="nofollow noopener">{label}</a> : label);
  }
  out.push(...withBreaks(value.slice(last)));
  return out;
}

function renderSpans(spans: InlineSpan[], links: MarkdownLink[]): Child[] {
  return spans.map((span) => {
    let content: Child = renderText(span.text, links);
    if (span.italic) content = <em>{content}</em>;
    if (span.bold) content = <strong>{content}</strong>;
    return content;
  });
}

/** The body as elements; headings start at h2, below the page's one h1 (the campaign title). */
function CampaignMarkdownElements(props: { source: string }) {
  const { prepared, links } = extractMarkdownLinks(props.source, 'http-and-mailto');
  return (
    <>
      {parseMarkdown(prepared).map((block) => {
        if (block.kind === 'heading') {
          const spans = renderSpans(block.spans, links);
          return block.level === 1 ? <h2>{spans}</h2> : block.level === 2 ? <h3>{spans}</h3> : <h4>{spans}</h4>;
        }
        if (block.kind === 'paragraph') return <p>{renderSpans(block.spans, links)}</p>;
        const items = block.items.map((item) => <li>{renderSpans(item, links)}</li>);
        return block.ordered ? <ol start={block.start === 1 ? undefined : block.start}>{items}</ol> : <ul>{items}</ul>;
      })}
    </>
  );
}

// Every view of a campaign page would otherwise parse its body again.
const campaignMarkdownHtml = memoByContent((source: string): string => {
  const html = (<CampaignMarkdownElements source={source} />).toString();
  if (typeof html !== 'string') throw new TypeError('the campaign body renders synchronously');
  return html;
});

/** The body as HTML, rendered once per distinct text (a campaign version in one language) and then kept. */
export function CampaignMarkdown(props: { source: string }) {
  return raw(campaignMarkdownHtml(props.source));
}
