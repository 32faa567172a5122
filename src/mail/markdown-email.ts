import { escapeHtml } from '../lib/html.js';
import { memoByContent } from '../markdown/content-cache.js';
import { extractMarkdownLinks, linkPlaceholder, type MarkdownLink } from '../markdown/markdown-links.js';
import { parseInline, parseMarkdown, type InlineSpan } from '../markdown/markdown.js';

/**
 * Organiser-written Markdown (update emails) as email HTML and plain text.
 * It is the letters' dialect (src/markdown/markdown.ts: paragraphs, headings,
 * lists, emphasis) plus links: `[label](url)`, `<url>` and bare URLs. Every
 * character the organiser typed is escaped, so no HTML passes through, and
 * only http(s) URLs become links; any other link keeps its label as text.
 */
export type RenderedMarkdown = { html: string; text: string };

type Renderer = { html: (spans: InlineSpan[]) => string; text: (spans: InlineSpan[]) => string };

function inlineRenderer(links: MarkdownLink[]): Renderer {
  const textOf = (value: string): string =>
    value.replace(linkPlaceholder, (_, index: string) => {
      const link = links[Number(index)];
      if (!link) return '';
      const label = parseInline(link.label)
        .map((span) => span.text)
        .join('');
      return link.url && label !== link.url ? `${label} (${link.url})` : label;
    });

  const htmlOf = (value: string): string => {
    let out = '';
    let last = 0;
    for (const match of value.matchAll(linkPlaceholder)) {
      out += escapeHtml(value.slice(last, match.index)).replace(/\n/g, '<br>');
      last = match.index + match[0].length;
      const link = links[Number(match[1])];
      if (!link) continue;
      const label = html(parseInline(link.label));
      out += link.url ? `<a href="${escapeHtml(link.url)}" style="color:#1d4ed8;">${label}</a>` : label;
    }
    return out + escapeHtml(value.slice(last)).replace(/\n/g, '<br>');
  };

  const html = (spans: InlineSpan[]): string =>
    spans
      .map((span) => {
        let content = htmlOf(span.text);
        if (span.italic) content = `<em>${content}</em>`;
        if (span.bold) content = `<strong>${content}</strong>`;
        return content;
      })
      .join('');
  const text = (spans: InlineSpan[]): string => spans.map((span) => textOf(span.text)).join('');
  return { html, text };
}

const headingStyle: Record<1 | 2 | 3, string> = {
  1: 'margin:24px 0 12px;font-size:22px;line-height:1.3;',
  2: 'margin:20px 0 10px;font-size:19px;line-height:1.3;',
  3: 'margin:16px 0 8px;font-size:17px;line-height:1.3;',
};

function renderUncached(source: string): RenderedMarkdown {
  const { prepared, links } = extractMarkdownLinks(source, 'http');
  const inline = inlineRenderer(links);
  const html: string[] = [];
  const text: string[] = [];
  for (const block of parseMarkdown(prepared)) {
    if (block.kind === 'heading') {
      // The subject is the email's title, so the organiser's headings start one level below it.
      const tag = `h${block.level + 1}`;
      html.push(`<${tag} style="${headingStyle[block.level]}">${inline.html(block.spans)}</${tag}>`);
      text.push(inline.text(block.spans));
    } else if (block.kind === 'paragraph') {
      html.push(`<p style="margin:0 0 16px;">${inline.html(block.spans)}</p>`);
      text.push(inline.text(block.spans));
    } else {
      const tag = block.ordered ? 'ol' : 'ul';
      const start = block.ordered && block.start !== 1 ? ` start="${block.start}"` : '';
      const items = block.items.map((item) => `<li style="margin:0 0 4px;">${inline.html(item)}</li>`).join('');
      html.push(`<${tag}${start} style="margin:0 0 16px;padding-left:24px;">${items}</${tag}>`);
      text.push(block.items.map((item, index) => `${block.ordered ? `${block.start + index}.` : '-'} ${inline.text(item)}`).join('\n'));
    }
  }
  return { html: html.join('\n'), text: text.join('\n\n') };
}

/**
 * Renders an organiser's Markdown body for an email; pure, safe on any input, and linear in its
 * length. An update is composed per recipient when it is sent, so the rendering is kept by body:
 * a mailing renders its body once per language, however many supporters it reaches.
 */
export const renderEmailMarkdown: (source: string) => Readonly<RenderedMarkdown> = memoByContent(renderUncached);
