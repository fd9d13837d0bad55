/**
 * Early proof that mongoose works against the MongoDB wire-protocol test server
 * (mongo-java-server, started by `npm run infra:up`), for what the read models rely on:
 * connecting without `serverApi`, and unique / sparse unique / compound unique indexes
 * rejecting duplicates with the usual error code 11000.
 */
import mongoose, { Schema, type Connection } from "mongoose";
import { mongoUriFor } from "../support/infra";

const DUPLICATE_KEY = 11000;
const dbName = `smoke_${process.pid}_${Date.now()}`;

describe("mongo smoke: mongoose against the test server", () => {
  let conn: Connection;

  beforeAll(async () => {
    conn = await mongoose.createConnection(mongoUriFor(dbName), { serverSelectionTimeoutMS: 5000 }).asPromise();
  });
  afterAll(async () => {
    await conn.dropDatabase();
    await conn.close();
  });

  it("connects and answers ping/isMaster on the suite's own database", async () => {
    const admin = conn.db!.admin();
    expect(await admin.command({ ping: 1 })).toMatchObject({ ok: 1 });
    // mongo-java-server knows only the legacy handshake: `hello` is "no such command".
    const hello = await admin.command({ isMaster: 1 });
    // The mongodb 6.x driver (mongoose 8) refuses servers older than wire version 8.
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(8);
    expect(conn.name).toBe(dbName);
  });

  it("a unique index rejects a duplicate with code 11000", async () => {
    const Customer = conn.model(
      "SmokeCustomer",
      new Schema({ email: { type: String, required: true, unique: true }, name: String }),
    );
    await Customer.init(); // waits for the index build

    await Customer.create({ email: "ada@example.com", name: "Ada" });
    await expect(Customer.create({ email: "ada@example.com", name: "Other" })).rejects.toMatchObject({
      code: DUPLICATE_KEY,
    });
    expect(await Customer.countDocuments({ email: "ada@example.com" })).toBe(1);
  });

  it("a sparse unique index allows any number of missing values, but no duplicate values", async () => {
    const Order = conn.model(
      "SmokeOrder",
      new Schema({ orderNo: String, partnerRef: { type: String, unique: true, sparse: true } }),
    );
    await Order.init();

    await Order.create({ orderNo: "o-1" });
    await Order.create({ orderNo: "o-2" });
    await Order.create({ orderNo: "o-3", partnerRef: "p-1" });
    await expect(Order.create({ orderNo: "o-4", partnerRef: "p-1" })).rejects.toMatchObject({
      code: DUPLICATE_KEY,
    });
    expect(await Order.countDocuments()).toBe(3);
  });

  it("a compound unique index (one ticket per seat and event) is enforced", async () => {
    const schema = new Schema({ eventId: String, seat: String, holder: String });
    schema.index({ eventId: 1, seat: 1 }, { unique: true });
    const Ticket = conn.model("SmokeTicket", schema);
    await Ticket.init();

    await Ticket.create({ eventId: "e-1", seat: "A1", holder: "ada" });
    await Ticket.create({ eventId: "e-1", seat: "A2", holder: "bob" });
    await Ticket.create({ eventId: "e-2", seat: "A1", holder: "cy" });
    await expect(Ticket.create({ eventId: "e-1", seat: "A1", holder: "eve" })).rejects.toMatchObject({
      code: DUPLICATE_KEY,
    });
    // Bulk writes report the same code for the offending document.
    await expect(
      Ticket.insertMany(
        [
          { eventId: "e-3", seat: "B1" },
          { eventId: "e-3", seat: "B1" },
        ],
        { ordered: true },
      ),
    ).rejects.toMatchObject({ code: DUPLICATE_KEY });
  });
});
