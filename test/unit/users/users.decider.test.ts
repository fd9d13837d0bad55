import { isPerson } from "../../../lib/auth/principal";
import { DEFAULT_PREFERENCES } from "../../../lib/domain/notifications";
import { userDecider } from "../../../services/users/users.decider";
import { deviceId } from "../../../services/users/users.fields";
import { usersProjection } from "../../../services/users/users.projection";
import type { UserCommand, UserEvent } from "../../../services/users/users.types";
import { userStream } from "../../../services/users/users.types";
import { NOW, admin, customer, given, refusal, system, when } from "../catalogue/fixtures";

const ANN = customer.sub;
const registered: UserEvent = { type: "UserRegistered", data: { id: ANN, name: "Ann", email: "ann@example.com", at: NOW } };

type Command<T extends UserCommand["type"]> = Omit<Extract<UserCommand, { type: T }>, "type" | "actor" | "at" | "id">;
function command<T extends UserCommand["type"]>(type: T, fields: Command<T>, actor = customer, id = ANN): UserCommand {
  return { type, actor, at: NOW + 1000, id, ...fields } as UserCommand;
}

const webPush = {
  endpoint: "https://push.example.com/send/abc",
  keys: { p256dh: Buffer.alloc(65, 4).toString("base64url"), auth: Buffer.alloc(16, 7).toString("base64url") },
};

describe("user decider", () => {
  it("names its stream user-<sub>", () => {
    expect(userStream("ann")).toBe("user-ann");
  });

  it("registers from the token's claims once, leaving out a claim that does not validate", () => {
    const events = when(userDecider, [], command("RegisterUser", { name: " Ann ", email: "not-an-address" }));
    expect(events).toEqual([{ type: "UserRegistered", data: { id: ANN, name: "Ann", email: null, at: NOW + 1000 } }]);
    const user = given(userDecider, events);
    expect(user).toMatchObject({ phone: null, locale: null, timeZone: null, devices: [], blocked: null });
    expect(user!.preferences).toEqual(DEFAULT_PREFERENCES);
    // The second first call (another node, a race) changes nothing.
    expect(when(userDecider, events, command("RegisterUser", { name: "Other" }))).toEqual([]);
  });

  it("lets a user register and change only their own profile (admins and the system any)", () => {
    expect(refusal(() => when(userDecider, [], command("RegisterUser", {}, customer, "bob"))).status).toBe(403);
    expect(
      refusal(() =>
        when(userDecider, [registered], command("UpdateProfile", { phone: "+79001234567" }, { sub: "bob", roles: ["customer"] })),
      ).type,
    ).toBe("FORBIDDEN");
    expect(when(userDecider, [registered], command("UpdateProfile", { locale: "en" }, admin))).toHaveLength(1);
  });

  it("updates only what changed, normalising the phone; unchanged input appends nothing", () => {
    const events = when(
      userDecider,
      [registered],
      command("UpdateProfile", { name: "Ann", phone: "+7 (900) 123-45-67", locale: "ru", timeZone: "Europe/Moscow" }),
    );
    expect(events).toEqual([
      {
        type: "ProfileUpdated",
        data: { id: ANN, phone: "+79001234567", locale: "ru", timeZone: "Europe/Moscow", at: NOW + 1000 },
      },
    ]);
    const history = [registered, ...events];
    expect(when(userDecider, history, command("UpdateProfile", { phone: "+79001234567", locale: "ru" }))).toEqual([]);
    // null clears a field.
    expect(when(userDecider, history, command("UpdateProfile", { timeZone: null }))[0]).toMatchObject({
      data: { timeZone: null },
    });
  });

  it.each([
    ["phone", { phone: "89001234567" }],
    ["phone", { phone: "+7123" }],
    ["phone", { phone: "+7900123456789012" }],
    ["timeZone", { timeZone: "Mars/Olympus" }],
    ["timeZone", { timeZone: "+03:00" }],
    ["email", { email: "ann at example.com" }],
    ["name", { name: "   " }],
    ["locale", { locale: "de" as never }],
  ])("refuses a bad %s with 422 naming it", (field, fields) => {
    const err = refusal(() => when(userDecider, [registered], command("UpdateProfile", fields)));
    expect([err.status, err.data?.field]).toEqual([422, field]);
  });

  it("merges a partial preferences map; a transactional kind with every channel off is refused, naming the kind", () => {
    const [event] = when(
      userDecider,
      [registered],
      command("UpdateProfile", { preferences: { order_paid: { sms: true, push: false } } }),
    );
    const prefs = (event.data as { preferences: typeof DEFAULT_PREFERENCES }).preferences;
    expect(prefs.order_paid).toEqual({ email: true, sms: true, push: false });
    expect(prefs.refund_done).toEqual(DEFAULT_PREFERENCES.refund_done);
    const off = refusal(() =>
      when(userDecider, [registered], command("UpdateProfile", { preferences: { refund_done: { email: false, push: false } } })),
    );
    expect([off.status, off.data?.field]).toEqual([422, "preferences.refund_done"]);
    expect(off.message).toMatch(/refund_done/);
    // Reminders are not transactional: they may be switched off entirely.
    const quiet = { event_reminder: { email: false, sms: false, push: false } };
    expect(when(userDecider, [registered], command("UpdateProfile", { preferences: quiet }))).toHaveLength(1);
  });

  it("adds a device under an id derived from its token; registering it again changes nothing", () => {
    const events = when(
      userDecider,
      [registered],
      command("AddDevice", { device: { fcmToken: "fcm-token-123456", label: "Pixel" } }),
    );
    const id = deviceId("fcm", "fcm-token-123456");
    expect(events).toEqual([
      {
        type: "DeviceAdded",
        data: {
          id: ANN,
          device: { id, target: { kind: "fcm", token: "fcm-token-123456" }, label: "Pixel", addedAt: NOW + 1000 },
          at: NOW + 1000,
        },
      },
    ]);
    const history = [registered, ...events];
    expect(
      when(userDecider, history, command("AddDevice", { device: { fcmToken: "fcm-token-123456", label: "Pixel" } })),
    ).toEqual([]);
    // A new label replaces the device, which keeps the time it was first added.
    const relabelled = when(
      userDecider,
      history,
      command("AddDevice", { device: { fcmToken: "fcm-token-123456", label: "Work" } }),
    );
    expect(relabelled[0]).toMatchObject({ data: { device: { id, label: "Work", addedAt: NOW + 1000 } } });
    expect(given(userDecider, [...history, ...relabelled])!.devices).toHaveLength(1);
  });

  it("reads null, which the validator lets through for an optional field, as absent", () => {
    const device = { fcmToken: "fcm-token-123456", label: null, webPush: null } as never;
    expect(when(userDecider, [registered], command("AddDevice", { device }))[0]).toMatchObject({
      data: { device: { target: { kind: "fcm" } } },
    });
    expect(when(userDecider, [registered], command("UpdateProfile", { preferences: null } as never))).toEqual([]);
    const patch = { preferences: { order_paid: { sms: null, push: false } } } as never;
    expect(when(userDecider, [registered], command("UpdateProfile", patch))[0]).toMatchObject({
      data: { preferences: { order_paid: { email: true, sms: false, push: false } } },
    });
  });

  it("checks a Web Push subscription: https endpoint, 65-byte p256dh and 16-byte auth in base64url", () => {
    const [added] = when(userDecider, [registered], command("AddDevice", { device: { webPush } }));
    expect(added).toMatchObject({ data: { device: { id: deviceId("webpush", webPush.endpoint), target: { kind: "webpush" } } } });
    const bad = (device: object) =>
      refusal(() => when(userDecider, [registered], command("AddDevice", { device } as never))).data?.field;
    expect(bad({ webPush: { ...webPush, endpoint: "http://push.example.com/x" } })).toBe("webPush.endpoint");
    expect(bad({ webPush: { ...webPush, keys: { ...webPush.keys, p256dh: "c2hvcnQ" } } })).toBe("webPush.keys.p256dh");
    expect(bad({ webPush: { ...webPush, keys: { ...webPush.keys, auth: "not base64!" } } })).toBe("webPush.keys.auth");
    expect(bad({ fcmToken: "tok en" })).toBe("fcmToken");
    expect(bad({})).toBe("fcmToken");
  });

  it("removes a device for its user, or as gone for the system only; removing it again changes nothing", () => {
    const added = when(userDecider, [registered], command("AddDevice", { device: { fcmToken: "fcm-token-123456" } }));
    const history = [registered, ...added];
    const id = deviceId("fcm", "fcm-token-123456");
    expect(refusal(() => when(userDecider, history, command("RemoveDevice", { deviceId: id, reason: "gone" }))).status).toBe(403);
    const removed = when(userDecider, history, command("RemoveDevice", { deviceId: id, reason: "gone" }, system));
    expect(removed).toEqual([{ type: "DeviceRemoved", data: { id: ANN, deviceId: id, reason: "gone", at: NOW + 1000 } }]);
    expect(given(userDecider, [...history, ...removed])!.devices).toEqual([]);
    expect(when(userDecider, [...history, ...removed], command("RemoveDevice", { deviceId: id, reason: "user" }))).toEqual([]);
  });

  it("blocks and unblocks by admins only, recording the reason", () => {
    expect(refusal(() => when(userDecider, [registered], command("BlockUser", { reason: "fraud" }))).status).toBe(403);
    const blocked = when(userDecider, [registered], command("BlockUser", { reason: " fraud " }, admin));
    expect(given(userDecider, [registered, ...blocked])!.blocked).toEqual({ reason: "fraud", at: NOW + 1000 });
    expect(when(userDecider, [registered, ...blocked], command("BlockUser", { reason: "fraud" }, admin))).toEqual([]);
    const unblocked = when(userDecider, [registered, ...blocked], command("UnblockUser", {}, admin));
    expect(given(userDecider, [registered, ...blocked, ...unblocked])!.blocked).toBeNull();
    expect(when(userDecider, [registered], command("UnblockUser", {}, admin))).toEqual([]);
    expect(refusal(() => when(userDecider, [], command("BlockUser", { reason: "x" }, admin))).status).toBe(404);
  });
});

describe("users read model", () => {
  it("keeps devices without their secrets and a search key of name, e-mail and phone", async () => {
    const docs = new Map<string, Record<string, unknown>>();
    const view = {
      get: async (id: string) => (docs.get(id) ?? null) as never,
      find: async () => [],
      put: (doc: { _id: string }) => void docs.set(doc._id, doc),
      delete: (id: string) => void docs.delete(id),
    };
    const events: UserEvent[] = [
      registered,
      { type: "ProfileUpdated", data: { id: ANN, phone: "+79001234567", at: NOW + 1 } },
      {
        type: "DeviceAdded",
        data: { id: ANN, device: { id: "d1", target: { kind: "fcm", token: "secret" }, addedAt: NOW + 2 }, at: NOW + 2 },
      },
      { type: "UserBlocked", data: { id: ANN, reason: "fraud", at: NOW + 3 } },
    ];
    for (const event of events) await usersProjection.apply({ ...event, at: event.data.at } as never, view as never);
    expect(docs.get(ANN)).toMatchObject({
      name: "Ann",
      phone: "+79001234567",
      devices: [{ id: "d1", kind: "fcm", addedAt: NOW + 2 }],
      blocked: { reason: "fraud", at: NOW + 3 },
      search: "ann ann@example.com +79001234567",
      updatedAt: NOW + 3,
    });
    expect(JSON.stringify(docs.get(ANN))).not.toMatch(/secret/);
  });
});

describe("who gets a profile", () => {
  it("is a person: not a door scanner nor an issuer's service account", () => {
    expect(isPerson({ sub: "a", roles: ["customer"] })).toBe(true);
    expect(isPerson({ sub: "a", roles: [] })).toBe(true);
    expect(isPerson({ sub: "a", roles: ["organizer", "checker"], organizerId: "o" })).toBe(true);
    expect(isPerson({ sub: "a", roles: ["checker"], organizerId: "o" })).toBe(false);
    expect(isPerson({ sub: "a", roles: ["admin"], name: "service-account-billing" })).toBe(false);
  });
});
