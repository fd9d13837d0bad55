/** Text placed in HTML (content or a quoted attribute): every character that could end either is escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The shell of a small server-drawn page: its title (escaped), inline style, optional head lines, body. */
export function htmlDocument(page: { title: string; style: string; body: string; head?: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${page.head ? `${page.head}\n` : ""}<title>${escapeHtml(page.title)}</title>
<style>${page.style}</style>
</head>
<body><main>
${page.body}
</main></body>
</html>
`;
}
