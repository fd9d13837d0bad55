/**
 * fontkit (pdfkit's own font engine) ships no types. Only what ticket-pdf.ts needs: a parsed
 * font, which pdfkit ≥ 0.17 accepts wherever it takes a font file.
 */
declare module "fontkit" {
  export interface Font {
    layout(text: string): unknown;
  }
  export function create(buffer: Buffer): Font;
}
