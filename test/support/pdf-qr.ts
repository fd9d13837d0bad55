/**
 * Test support: what a pdfkit PDF shows a door scanner. Reads the objects (pdfkit writes them
 * uncompressed, streams FlateDecode), walks the pages in order, and decodes with jsQR, the real
 * decoder, what each page draws: its image XObjects (PNG row filters undone, any alpha mask
 * composited over white) and the filled rectangles of its content (a QR code drawn as vector
 * squares, rasterised here). Enough PDF for pdfkit's output, not a general reader.
 */
import jsQR from "jsqr";
import { inflateSync } from "zlib";

type Value = number | boolean | null | string | Name | Ref | Value[] | Dict;
interface Name {
  name: string;
}
interface Ref {
  ref: number;
}
interface Dict {
  [key: string]: Value;
}
interface PdfObject {
  dict: Value;
  stream?: Buffer;
}

export interface PdfQrPage {
  /** The decoded text of every QR image on the page, in the page's resource order. */
  qr: string[];
}

/** A tiny recursive-descent reader of PDF object syntax, over the file as latin1 text. */
class Lexer {
  constructor(
    private readonly text: string,
    public pos: number,
  ) {}

  private skip(): void {
    for (;;) {
      while (/\s/.test(this.text[this.pos] ?? "")) this.pos++;
      if (this.text[this.pos] !== "%") return;
      while (this.pos < this.text.length && this.text[this.pos] !== "\n") this.pos++;
    }
  }

  value(): Value {
    this.skip();
    const t = this.text;
    if (t.startsWith("<<", this.pos)) {
      this.pos += 2;
      const dict: Dict = {};
      for (this.skip(); !t.startsWith(">>", this.pos); this.skip()) {
        const key = this.value() as Name;
        dict[key.name] = this.value();
      }
      this.pos += 2;
      return dict;
    }
    const c = t[this.pos];
    if (c === "[") {
      this.pos++;
      const list: Value[] = [];
      for (this.skip(); t[this.pos] !== "]"; this.skip()) list.push(this.value());
      this.pos++;
      return list;
    }
    if (c === "/") {
      const m = /^\/([^\s/<>[\]()%]*)/.exec(t.slice(this.pos, this.pos + 200))!;
      this.pos += m[0].length;
      return { name: m[1] };
    }
    if (c === "(") return this.literal();
    if (c === "<") {
      const end = t.indexOf(">", this.pos);
      const hex = t.slice(this.pos + 1, end).replace(/\s/g, "");
      this.pos = end + 1;
      return Buffer.from(hex, "hex").toString("latin1");
    }
    const ref = /^(\d+)\s+(\d+)\s+R\b/.exec(t.slice(this.pos, this.pos + 40));
    if (ref) {
      this.pos += ref[0].length;
      return { ref: Number(ref[1]) };
    }
    const word = /^[^\s/<>[\]()%]+/.exec(t.slice(this.pos, this.pos + 64));
    if (!word) throw new Error(`unreadable PDF syntax at byte ${this.pos}`);
    this.pos += word[0].length;
    if (word[0] === "true" || word[0] === "false") return word[0] === "true";
    if (word[0] === "null") return null;
    return Number(word[0]);
  }

  private literal(): string {
    const t = this.text;
    let depth = 0;
    let out = "";
    const escapes: Record<string, string> = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f" };
    for (this.pos++; ; this.pos++) {
      const c = t[this.pos];
      if (c === "\\") {
        const next = t[++this.pos];
        const octal = /^[0-7]{1,3}/.exec(t.slice(this.pos, this.pos + 3));
        if (octal) {
          out += String.fromCharCode(parseInt(octal[0], 8));
          this.pos += octal[0].length - 1;
        } else out += escapes[next] ?? next;
      } else if (c === "(") {
        depth++;
        out += c;
      } else if (c === ")") {
        if (depth-- === 0) break;
        out += c;
      } else out += c;
    }
    this.pos++;
    return out;
  }
}

function readObjects(pdf: Buffer): Map<number, PdfObject> {
  const text = pdf.toString("latin1");
  const objects = new Map<number, PdfObject>();
  const header = /(\d+)\s+\d+\s+obj\b/g;
  for (let m = header.exec(text); m; m = header.exec(text)) {
    const lexer = new Lexer(text, m.index + m[0].length);
    const dict = lexer.value();
    const after = /^\s*stream\r?\n/.exec(text.slice(lexer.pos, lexer.pos + 16));
    const object: PdfObject = { dict };
    if (after) {
      const start = lexer.pos + after[0].length;
      const length = (dict as Dict).Length;
      const end = typeof length === "number" ? start + length : text.indexOf("endstream", start);
      object.stream = pdf.subarray(start, end);
      header.lastIndex = end;
    } else header.lastIndex = lexer.pos;
    objects.set(Number(m[1]), object);
  }
  return objects;
}

function isRef(value: Value | undefined): value is Ref {
  return typeof value === "object" && value !== null && !Array.isArray(value) && typeof (value as Dict).ref === "number";
}

export function readPdfQr(pdf: Buffer): { pageCount: number; pages: PdfQrPage[] } {
  const objects = readObjects(pdf);
  const resolve = (value: Value | undefined): Value | undefined => (isRef(value) ? objects.get(value.ref)?.dict : value);
  const dictOf = (value: Value | undefined): Dict => (resolve(value) ?? {}) as Dict;
  const nameOf = (value: Value | undefined): string | undefined => (resolve(value) as Name | undefined)?.name;

  const catalog = [...objects.values()].find((o) => nameOf((o.dict as Dict).Type) === "Catalog");
  if (!catalog) throw new Error("no /Catalog in the PDF");
  const pages: Dict[] = [];
  const walk = (node: Dict): void => {
    if (nameOf(node.Type) === "Page") pages.push(node);
    else for (const kid of (resolve(node.Kids) as Value[]) ?? []) walk(dictOf(kid));
  };
  walk(dictOf((catalog.dict as Dict).Pages));

  const image = (ref: Value): { width: number; height: number; rgb: Uint8Array } => {
    const object = objects.get((ref as Ref).ref)!;
    return decodeImage(object.dict as Dict, object.stream!, dictOf, resolve);
  };

  return {
    pageCount: pages.length,
    pages: pages.map((page) => {
      const xobjects = dictOf(dictOf(page.Resources).XObject);
      const qr: string[] = [];
      for (const ref of Object.values(xobjects)) {
        const dict = dictOf(ref);
        if (nameOf(dict.Subtype) !== "Image") continue;
        const { width, height, rgb } = image(ref);
        const alpha = dict.SMask ? image(dict.SMask).rgb : null;
        const rgba = new Uint8ClampedArray(width * height * 4);
        for (let i = 0; i < width * height; i++) {
          const a = alpha ? alpha[i * 3] / 255 : 1;
          for (let k = 0; k < 3; k++) rgba[i * 4 + k] = Math.round(rgb[i * 3 + k] * a + 255 * (1 - a));
          rgba[i * 4 + 3] = 255;
        }
        const code = jsQR(rgba, width, height);
        if (code) qr.push(code.data);
      }
      const vector = decodeRectangles(contentOf(page, objects, resolve));
      if (vector !== null) qr.push(vector);
      return { qr };
    }),
  };
}

/** The page's content stream(s), inflated, as text. */
function contentOf(page: Dict, objects: Map<number, PdfObject>, resolve: (v: Value | undefined) => Value | undefined): string {
  const contents = Array.isArray(page.Contents) ? page.Contents : [page.Contents];
  return contents
    .filter(isRef)
    .map((ref) => {
      const object = objects.get(ref.ref)!;
      const filter = resolve((object.dict as Dict).Filter) as Name | undefined;
      return (filter?.name === "FlateDecode" ? inflateSync(object.stream!) : object.stream!).toString("latin1");
    })
    .join("\n");
}

/**
 * The page's `x y w h re` rectangles (pdfkit draws only the QR code with them) painted black
 * on white at 8 pixels per module or so, with a white margin, and read by jsQR; null when the
 * page has none or they do not read as a QR code.
 */
function decodeRectangles(content: string): string | null {
  const rects = [...content.matchAll(/(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re\b/g)].map((m) => m.slice(1, 5).map(Number));
  if (rects.length === 0) return null;
  const minX = Math.min(...rects.map(([x]) => x));
  const minY = Math.min(...rects.map(([, y]) => y));
  const maxX = Math.max(...rects.map(([x, , w]) => x + w));
  const maxY = Math.max(...rects.map(([, y, , h]) => y + h));
  const module = Math.min(...rects.map(([, , , h]) => h));
  const scale = 8 / module;
  const margin = 32;
  const width = Math.ceil((maxX - minX) * scale) + 2 * margin;
  const height = Math.ceil((maxY - minY) * scale) + 2 * margin;
  const rgba = new Uint8ClampedArray(width * height * 4).fill(255);
  for (const [x, y, w, h] of rects) {
    const x0 = Math.round((x - minX) * scale) + margin;
    const y0 = Math.round((y - minY) * scale) + margin;
    const x1 = Math.round((x + w - minX) * scale) + margin;
    const y1 = Math.round((y + h - minY) * scale) + margin;
    for (let py = y0; py < y1; py++)
      for (let px = x0; px < x1; px++) rgba.fill(0, (py * width + px) * 4, (py * width + px) * 4 + 3);
  }
  return jsQR(rgba, width, height)?.data ?? null;
}

/** The pixels of an image XObject as RGB bytes (gray repeated, palette looked up). */
function decodeImage(
  dict: Dict,
  stream: Buffer,
  dictOf: (v: Value | undefined) => Dict,
  resolve: (v: Value | undefined) => Value | undefined,
): { width: number; height: number; rgb: Uint8Array } {
  const width = dict.Width as number;
  const height = dict.Height as number;
  const bits = dict.BitsPerComponent as number;
  const filter = resolve(dict.Filter) as Name | undefined;
  let data = filter?.name === "FlateDecode" ? inflateSync(stream) : stream;
  const space = resolve(dict.ColorSpace);
  let palette: Buffer | null = null;
  let comps = 1;
  if (Array.isArray(space)) {
    palette = Buffer.from(resolve(space[3]) as string, "latin1");
  } else if ((space as Name | undefined)?.name === "DeviceRGB") comps = 3;
  const params = dictOf(dict.DecodeParms);
  if (typeof params.Predictor === "number" && params.Predictor >= 10) {
    const number = (value: Value | undefined, fallback: number): number => (typeof value === "number" ? value : fallback);
    data = undoPngFilters(data, number(params.Colors, 1), number(params.BitsPerComponent, bits), number(params.Columns, width));
  }
  const rowBytes = Math.ceil((width * comps * bits) / 8);
  const sample = (row: number, index: number): number => {
    const bit = index * bits;
    const byte = data[row * rowBytes + (bit >> 3)];
    return bits === 8 ? byte : (byte >> (8 - bits - (bit & 7))) & ((1 << bits) - 1);
  };
  const scale = 255 / ((1 << bits) - 1);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i += 3) {
      for (let k = 0; k < 3; k++) {
        rgb[i + k] = palette ? palette[sample(y, x) * 3 + k] : sample(y, x * comps + (comps === 3 ? k : 0)) * scale;
      }
    }
  }
  return { width, height, rgb };
}

/** PNG rows: a filter byte (None, Sub, Up, Average, Paeth) before each row, relative to the pixel to the left and above. */
function undoPngFilters(data: Buffer, colors: number, bits: number, columns: number): Buffer {
  const bpp = Math.max(1, Math.ceil((colors * bits) / 8));
  const rowBytes = Math.ceil((colors * bits * columns) / 8);
  const rows = Math.floor(data.length / (rowBytes + 1));
  const out = Buffer.alloc(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowBytes + 1)];
    const src = r * (rowBytes + 1) + 1;
    const dst = r * rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      const left = i >= bpp ? out[dst + i - bpp] : 0;
      const up = r > 0 ? out[dst + i - rowBytes] : 0;
      const upLeft = r > 0 && i >= bpp ? out[dst + i - rowBytes - bpp] : 0;
      let predicted = 0;
      if (type === 1) predicted = left;
      else if (type === 2) predicted = up;
      else if (type === 3) predicted = (left + up) >> 1;
      else if (type === 4) {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      }
      out[dst + i] = (data[src + i] + predicted) & 0xff;
    }
  }
  return out;
}

/** Every character the document's embedded fonts map back to Unicode (their /ToUnicode CMaps): what its text can show. */
export function pdfFontCharacters(pdf: Buffer): Set<string> {
  const chars = new Set<string>();
  for (const object of readObjects(pdf).values()) {
    if (!object.stream) continue;
    const filter = (object.dict as Dict).Filter as Name | undefined;
    const text = (filter?.name === "FlateDecode" ? inflateSync(object.stream) : object.stream).toString("latin1");
    if (!text.includes("begincmap")) continue;
    // pdfkit writes `<first> <last> [<unicode> ...]` ranges: the bracketed values are the characters.
    for (const [, list] of text.matchAll(/\[([^\]]*)\]/g)) {
      for (const [, hex] of list.matchAll(/<([0-9a-fA-F]{4})>/g)) chars.add(String.fromCharCode(parseInt(hex, 16)));
    }
  }
  return chars;
}
