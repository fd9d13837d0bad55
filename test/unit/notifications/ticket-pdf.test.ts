import { ticketsPdf } from "../../../services/notifications/ticket-pdf";
import { pdfFontCharacters, readPdfQr } from "../../support/pdf-qr";
import { sampleData, sampleTickets } from "../../support/notification-data";

// Drawing and decoding several QR pages takes seconds on a busy two-core machine.
jest.setTimeout(90_000);

describe("tickets PDF", () => {
  it("has one page per ticket whose QR code decodes to that ticket's barcode", async () => {
    const data = sampleData("order_paid", "ru", {});
    const pdf = await ticketsPdf(data);
    expect(pdf.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    const read = readPdfQr(pdf);
    expect(read.pageCount).toBe(3);
    expect(read.pages.map((page) => page.qr)).toEqual(data.order.tickets.map((ticket) => [ticket.barcode]));
  });

  it("prints no page for a refunded ticket", async () => {
    const tickets = sampleTickets(3);
    tickets[1] = { ...tickets[1], status: "refunded" };
    const read = readPdfQr(await ticketsPdf(sampleData("order_paid", "en", {}, { tickets })));
    expect(read.pageCount).toBe(2);
    expect(read.pages.flatMap((page) => page.qr)).toEqual([tickets[0].barcode, tickets[2].barcode]);
  });

  it("embeds a Cyrillic font and draws the Russian text with it", async () => {
    const pdf = await ticketsPdf(sampleData("order_paid", "ru", {}, { event: { name: "Щелкунчик — балет" } }));
    const raw = pdf.toString("latin1");
    expect(raw).toContain("/FontFile2");
    expect(raw).toMatch(/\/BaseFont \/[A-Z]{6}\+DejaVuSans/);
    const chars = pdfFontCharacters(pdf);
    for (const char of "Щелкунчик балет Крокус Сити Холл Партер ряд место") expect(chars).toContain(char);
  });

  it("is the same document when rendered again, so a resend repeats it byte for byte", async () => {
    const data = sampleData("order_paid", "ru", {});
    expect((await ticketsPdf(data)).equals(await ticketsPdf(data))).toBe(true);
  });

  it("prints an open-date ticket", async () => {
    const pdf = await ticketsPdf(sampleData("order_paid", "en", {}, { tickets: sampleTickets(1), event: { startsAt: null } }));
    expect(readPdfQr(pdf).pages).toEqual([{ qr: [sampleTickets(1)[0].barcode] }]);
  });

  it("keeps each ticket to one page however long its texts are", async () => {
    const long = "Очень длинное название ".repeat(40);
    const data = sampleData(
      "order_paid",
      "ru",
      {},
      {
        tickets: sampleTickets(2, { categoryName: long, sector: long }),
        event: { name: long, venue: { name: long, address: long, city: long } },
      },
    );
    expect(readPdfQr(await ticketsPdf(data)).pageCount).toBe(2);
  });

  it("refuses an order with no valid ticket, naming it", async () => {
    const data = sampleData("order_paid", "en", {}, { tickets: sampleTickets(2, { status: "cancelled" }) });
    await expect(ticketsPdf(data)).rejects.toThrow("order order-1 has no valid ticket to print");
  });
});
