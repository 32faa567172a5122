import { escapeHtml } from '../lib/html.js';

/** Fonts that carry Latin, Japanese, Korean and Chinese on common mail clients. */
export const emailFontStack =
  "system-ui,-apple-system,'Segoe UI',Roboto,'Hiragino Sans','Apple SD Gothic Neo','Microsoft YaHei','Noto Sans',sans-serif";

/**
 * The HTML document every supporter email shares: language, a readable
 * single column with inline styles (mail clients drop style sheets), and
 * `content` (already escaped HTML) inside it.
 */
export function emailHtmlDocument(locale: string, subject: string, content: string): string {
  return `<!DOCTYPE html>
<html lang="${locale}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${escapeHtml(subject)}</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f4f5;">
<div role="article" aria-label="${escapeHtml(subject)}" lang="${locale}" style="max-width:560px;margin:0 auto;padding:32px 24px;background-color:#ffffff;color:#18181b;font-family:${emailFontStack};font-size:16px;line-height:1.6;">
${content}
</div>
</body>
</html>
`;
}
