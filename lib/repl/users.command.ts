import type { ServiceBroker } from "moleculer";
import type { ReplCustomCommand } from "moleculer/src/service-broker";
import { SYSTEM } from "../app/context";
import type { UserProfile } from "../domain/notifications";
import { table } from "./projections.command";

/** What the users service answers about a user (devices without their secrets). */
type UserRow = Omit<UserProfile, "devices"> & { devices: Array<{ id: string; kind: string; label?: string; addedAt: number }> };
type UserDetail = UserRow & { orders: number; tickets: number };

const FOUND_MAX = 20;
/** The REPL is an operator's console: it acts as the system, which holds the admin role. */
const AS_SYSTEM = { meta: { user: SYSTEM } };

/** `users find <text>`: users whose name, e-mail or phone contains the text. */
export async function usersFindCommand(broker: ServiceBroker, text: string): Promise<string> {
  if (!text.trim()) return "usage: users find <text>";
  const page = await broker.call<{ rows: UserRow[]; total: number }, Record<string, unknown>>(
    "users.search",
    { q: text.trim(), pageSize: FOUND_MAX },
    AS_SYSTEM,
  );
  if (page.rows.length === 0) return `no user matches "${text.trim()}"`;
  const rows = page.rows.map((u) => [u.id, u.name ?? "", u.email ?? "", u.phone ?? "", u.blocked ? "blocked" : ""]);
  const more = page.total > page.rows.length ? `\n(${page.total - page.rows.length} more: narrow the search)` : "";
  return table(["ID", "NAME", "E-MAIL", "PHONE", "STATUS"], rows) + more;
}

/** `user <id>`: the profile, its devices and its order and ticket counts. */
export async function userCommand(broker: ServiceBroker, id: string): Promise<string> {
  if (!id) return "usage: user <id>";
  const u = await broker.call<UserDetail, { id: string }>("users.show", { id }, AS_SYSTEM);
  const channels = Object.entries(u.preferences)
    .map(
      ([kind, on]) =>
        `${kind}=${
          Object.keys(on)
            .filter((c) => on[c as keyof typeof on])
            .join("+") || "off"
        }`,
    )
    .join(" ");
  const lines = [
    ["id", u.id],
    ["name", u.name ?? "-"],
    ["e-mail", u.email ?? "-"],
    ["phone", u.phone ?? "-"],
    ["locale / zone", `${u.locale ?? "-"} / ${u.timeZone ?? "-"}`],
    ["preferences", channels],
    ["devices", u.devices.map((d) => `${d.id} (${d.kind}${d.label ? `, ${d.label}` : ""})`).join(", ") || "none"],
    ["blocked", u.blocked ? `since ${new Date(u.blocked.at).toISOString()}: ${u.blocked.reason}` : "no"],
    ["orders / tickets", `${u.orders} / ${u.tickets}`],
    ["created", new Date(u.createdAt).toISOString()],
  ];
  return lines.map(([k, v]) => `${k.padEnd(17)}${v}`).join("\n");
}

interface UsersArgs {
  action?: string;
  /** commander's variadic last argument: the words of the text. */
  text?: string[] | string;
}

async function print(name: string, run: () => Promise<string>): Promise<void> {
  try {
    console.log(await run());
  } catch (err) {
    console.log(`${name}: ${(err as Error).message}`);
  }
}

export const usersCommands: ReplCustomCommand[] = [
  {
    command: "users <action> [text...]",
    // moleculer-repl's own parser keeps one word per declared argument: a name has several.
    parse(command: { processedArgs: [string?, string[]?]; params?: UsersArgs }) {
      const [action, text] = command.processedArgs;
      command.params = { action, text };
    },
    description: "'users find <text>': users whose name, e-mail or phone contains the text",
    async action(broker: ServiceBroker, args: unknown) {
      const { action, text } = args as UsersArgs;
      const words = (Array.isArray(text) ? text.join(" ") : (text ?? "")).trim();
      await print("users", async () => (action === "find" ? usersFindCommand(broker, words) : "usage: users find <text>"));
    },
  },
  {
    command: "user <id>",
    description: "A user's profile, devices, block and order and ticket counts",
    async action(broker: ServiceBroker, args: unknown) {
      await print("user", () => userCommand(broker, String((args as { id?: string }).id ?? "")));
    },
  },
];
