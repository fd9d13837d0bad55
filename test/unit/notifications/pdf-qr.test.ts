import PDFDocument from "pdfkit";
import QRCode from "qrcode";
import { readPdfQr } from "../../support/pdf-qr";

/** The reader the ticket tests rely on, on PNGs pdfkit stores differently from ours (RGB with an alpha mask). */
describe("PDF QR reader", () => {
  it("decodes RGBA and transparent QR images page by page, and finds none on a page without", async () => {
    const doc = new PDFDocument({ autoFirstPage: false });
    const chunks: Buffer[] = [];
    doc.on("data", (chunk: Buffer) => chunks.push(chunk));
    const done = new Promise<Buffer>((resolve) => doc.on("end", () => resolve(Buffer.concat(chunks))));
    doc.addPage().image(await QRCode.toBuffer("transparent", { color: { light: "#0000" } }), 50, 50, { width: 200 });
    doc.addPage().image(await QRCode.toBuffer("opaque"), 50, 50, { width: 200 });
    doc.addPage().text("no code here");
    doc.end();
    const pdf = await done;
    expect(pdf.toString("latin1")).toContain("/SMask");
    expect(readPdfQr(pdf)).toEqual({ pageCount: 3, pages: [{ qr: ["transparent"] }, { qr: ["opaque"] }, { qr: [] }] });
  });
});
