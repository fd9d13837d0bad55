/**
 * The deployment files, checked without a Docker engine: docker-compose.yml (interpolated
 * the way compose does), the Dockerfile's stages, the Kafka broker settings the apache/kafka
 * image renders from the compose environment, and the Keycloak realm. Each app container's
 * environment goes through the real loadConfig(), so a setting the app does not understand,
 * or one that would put a container in the wrong mode, fails here instead of at `up`.
 *
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { DEFAULT_EVENTS_CLAIM, DEFAULT_ORGANIZER_CLAIM } from "../../lib/auth/claims";
import { ROLES } from "../../lib/auth/principal";
import { loadConfig, SERVICE_NAMES, type AppConfig } from "../../lib/config/config";
import { METRICS, promName } from "../../lib/metrics/app-metrics";
import { REPO_ROOT } from "../support/infra";
import {
  DOCKERFILE,
  ENV_EXAMPLE,
  REALM_FILE,
  commandWords,
  dependencyNames,
  parseYaml,
  dockerfileStages,
  envFileNames,
  interpolateDeep,
  InterpolationError,
  kafkaServerProperties,
  parseListeners,
  readCompose,
  secretLiterals,
  serviceEnvironment,
  variableRefs,
  type ComposeFile,
  type ComposeService,
  type Json,
} from "../support/compose";

const { raw } = readCompose();
const refs = variableRefs(raw);

/** What a user must put in .env: the `${VAR:?...}` variables, with stand-in values. */
const REQUIRED = Object.fromEntries(
  refs.filter((r) => r.operator === ":?" || r.operator === "?").map((r) => [r.name, `test-value-for-${r.name.toLowerCase()}`]),
);

/** The compose file as `docker compose up` would see it with `.env` holding `vars`. */
function composeWith(vars: Record<string, string> = {}): ComposeFile {
  return interpolateDeep(raw, { ...REQUIRED, ...vars });
}

const compose = composeWith();
const services = compose.services;
const appNames = Object.keys(services).filter((name) => serviceEnvironment(services[name]).SERVICES !== undefined);

type Realm = { [key: string]: Json };
const realm = JSON.parse(fs.readFileSync(REALM_FILE, "utf8")) as Realm;
const realmClients = realm.clients as Array<{ [key: string]: Json }>;
const clientById = (id: string) => realmClients.find((c) => c.clientId === id);

function appConfig(name: string, doc = compose): AppConfig {
  return loadConfig(serviceEnvironment(doc.services[name]));
}

/** `HOST:PUBLISHED:TARGET` (or shorter) port strings of a service. */
function publishedPorts(service: ComposeService): Array<{ published: string; target: number }> {
  return (service.ports ?? []).map((port) => {
    if (typeof port !== "string") return { published: String(port.published ?? ""), target: port.target };
    const parts = port.split(":");
    return { published: parts.length >= 2 ? parts[parts.length - 2] : "", target: Number(parts[parts.length - 1]) };
  });
}

function mounts(service: ComposeService): Array<{ source: string; target: string }> {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume !== "string") return { source: volume.source ?? "", target: volume.target };
    const [source, target] = volume.split(":");
    return { source, target };
  });
}

const isPath = (source: string) => source.startsWith(".") || source.startsWith("/");

describe("docker-compose.yml", () => {
  test("every service has an image or a build, and the app containers share one image", () => {
    expect(Object.keys(services).length).toBeGreaterThan(0);
    for (const [name, service] of Object.entries(services)) {
      expect({ name, runnable: Boolean(service.image || service.build) }).toEqual({ name, runnable: true });
    }
    expect([...appNames].sort()).toEqual(["catalogue", "gateway", "notifications", "relay"]);
    expect(new Set(appNames.map((name) => services[name].image)).size).toBe(1);
  });

  test("without the required variables it refuses to start, naming them", () => {
    expect(Object.keys(REQUIRED)).toEqual(["KEYCLOAK_ADMIN_PASSWORD", "GRAFANA_ADMIN_PASSWORD"]);
    expect(() => interpolateDeep(raw, {})).toThrow(InterpolationError);
    expect(() => interpolateDeep(raw, {})).toThrow(/KEYCLOAK_ADMIN_PASSWORD/);
    expect(() => interpolateDeep(raw, { KEYCLOAK_ADMIN_PASSWORD: "" })).toThrow(/KEYCLOAK_ADMIN_PASSWORD/);
  });

  test(".env.example documents exactly the variables the compose file reads", () => {
    const documented = envFileNames(fs.readFileSync(ENV_EXAMPLE, "utf8"));
    const read = [...new Set(refs.map((r) => r.name))];
    expect([...new Set(documented)].sort()).toEqual(read.sort());
    expect(documented.length).toBe(new Set(documented).size);
  });

  test("depends_on names existing services; a health condition needs a healthcheck", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dep of dependencyNames(service)) {
        expect({ name, dep, exists: dep in services }).toEqual({ name, dep, exists: true });
        const condition = Array.isArray(service.depends_on) ? undefined : service.depends_on?.[dep]?.condition;
        if (condition === "service_healthy") {
          expect({ dep, healthcheck: Boolean(services[dep].healthcheck?.test) }).toEqual({ dep, healthcheck: true });
        }
        if (condition === "service_completed_successfully") expect(services[dep].restart).toBe("no");
      }
    }
  });

  test("long-running services restart and keep their state in declared named volumes", () => {
    const declared = Object.keys(compose.volumes ?? {});
    for (const [name, service] of Object.entries(services)) {
      if (service.restart !== "no") expect({ name, restart: service.restart }).toEqual({ name, restart: "unless-stopped" });
      for (const { source } of mounts(service)) {
        if (isPath(source)) {
          expect({ name, source, exists: fs.existsSync(path.resolve(REPO_ROOT, source)) }).toEqual({
            name,
            source,
            exists: true,
          });
        } else {
          expect({ name, source, declared: declared.includes(source) }).toEqual({ name, source, declared: true });
        }
      }
    }
  });

  test("published ports bind to PUBLISH_ADDRESS, loopback unless set; MongoDB, NATS and Kafka's app listener are never published", () => {
    for (const service of Object.values(services)) {
      for (const port of service.ports ?? []) expect(String(port)).toMatch(/^127\.0\.0\.1:/);
    }
    const open = composeWith({ PUBLISH_ADDRESS: "0.0.0.0" });
    expect(open.services.gateway.ports).toEqual(["0.0.0.0:3000:3000"]);
    expect(services.mongo.ports).toBeUndefined();
    expect(services.nats.ports).toBeUndefined();
    expect(publishedPorts(services.kafka).map((p) => p.target)).toEqual([9094]);
  });
});

describe("app containers", () => {
  test("run only known services, and together every service there is; only the gateway serves HTTP", () => {
    const run = new Map<string, string[]>();
    for (const name of appNames) {
      const list = serviceEnvironment(services[name])
        .SERVICES.split(",")
        .map((s) => s.trim());
      for (const svc of list) {
        expect({ name, svc, known: (SERVICE_NAMES as readonly string[]).includes(svc) }).toEqual({ name, svc, known: true });
        run.set(svc, [...(run.get(svc) ?? []), name]);
      }
    }
    expect([...run.keys()].sort()).toEqual([...SERVICE_NAMES].sort());
    expect(run.get("api")).toEqual(["gateway"]);
    for (const name of appNames) expect({ name, runners: run.get("runners")?.includes(name) }).toEqual({ name, runners: true });
  });

  test.each(["gateway", "catalogue", "relay"])("%s: its environment passes loadConfig() in distributed mode", (name) => {
    const config = appConfig(name);
    expect(config.services).toEqual(serviceEnvironment(services[name]).SERVICES.split(","));
    expect(config.transporter).toBe("nats://nats:4222");
    expect(config.store).toEqual({ kind: "mongo", uri: "mongodb://mongo:27017/ticketing" });
    expect(config.kafka?.connection?.brokers).toEqual(["kafka:9092"]);
    expect(config.kafka?.connection?.sasl).toBeUndefined();
    expect(config.auth).toMatchObject({
      mode: "oidc",
      issuer: "http://localhost:8080/realms/ticketing",
      jwksUri: "http://keycloak:8080/realms/ticketing/protocol/openid-connect/certs",
      audience: "ticketing-api",
    });
    expect(config.logFormat).toBe("json");
  });

  test.each(["gateway", "catalogue", "relay"])("%s: sets no variable the configuration does not read", (name) => {
    const env = serviceEnvironment(services[name]);
    const read = new Set<string>();
    const recording = new Proxy(env, {
      get(target, key) {
        if (typeof key === "string") read.add(key);
        return Reflect.get(target, key);
      },
    });
    loadConfig(recording);
    // Empty means unset to the app (EnvReader.raw); those are optional settings left blank.
    const unread = Object.keys(env).filter((key) => env[key].trim() !== "" && !read.has(key));
    expect(unread).toEqual([]);
  });

  test("the real geocoder and music catalogue can be switched on from .env", () => {
    const doc = composeWith({ GEOCODER_PROVIDER: "yandex", GEOCODER_API_KEY: "k", MUSIC_PROVIDER: "yandex", MUSIC_TOKEN: "t" });
    const config = appConfig("catalogue", doc);
    expect(config.geocoder).toMatchObject({ provider: "yandex", apiKey: "k" });
    expect(config.music).toMatchObject({ provider: "yandex", token: "t" });
    expect(appConfig("catalogue").geocoder.provider).toBe("simulator");
  });

  test("the issuer the app trusts is the one Keycloak puts in tokens, for any public URL", () => {
    const cases: Array<Record<string, string>> = [{}, { KEYCLOAK_PUBLIC_URL: "https://sso.example.com" }];
    for (const vars of cases) {
      const doc = composeWith(vars);
      const kc = serviceEnvironment(doc.services.keycloak);
      for (const name of appNames) {
        const { auth } = appConfig(name, doc);
        expect(auth.issuer).toBe(`${kc.KC_HOSTNAME}/realms/${String(realm.realm)}`);
      }
    }
  });

  test("keys are fetched from Keycloak inside the network, on the port it listens on", () => {
    const { auth } = appConfig("gateway");
    if (auth.mode !== "oidc") throw new Error("gateway is not in OIDC mode");
    const jwks = new URL(auth.jwksUri!);
    expect(jwks.hostname).toBe("keycloak");
    expect(jwks.port).toBe("8080");
    expect(publishedPorts(services.keycloak).map((p) => p.target)).toContain(8080);
    expect(jwks.pathname).toBe(`/realms/${String(realm.realm)}/protocol/openid-connect/certs`);
    // Internal requests must get internal URLs back (discovery, token endpoint).
    expect(serviceEnvironment(services.keycloak).KC_HOSTNAME_BACKCHANNEL_DYNAMIC).toBe("true");
  });

  test("e-mail goes to the mailpit service inside the network, which runs the tests' Mailpit version", () => {
    for (const name of appNames) expect(new URL(appConfig(name).notifications.mail.smtpUrl!).host).toBe("mailpit:1025");
    const install = fs.readFileSync(path.join(REPO_ROOT, "scripts", "infra", "mailpit", "install.sh"), "utf8");
    expect(services.mailpit.image).toBe(`axllent/mailpit:${/^VERSION=(\S+)$/m.exec(install)?.[1]}`);
    expect(publishedPorts(services.mailpit).map((p) => p.target)).toEqual([8025]);
  });

  test("the gateway publishes its HTTP port and checks /api/health on it", () => {
    const config = appConfig("gateway");
    expect(publishedPorts(services.gateway)).toEqual([{ published: "3000", target: config.http.port }]);
    const check = commandWords(services.gateway.healthcheck?.test).join(" ");
    expect(check).toContain(`http://127.0.0.1:${config.http.port}/api/health`);
  });
});

describe("monitoring: Prometheus and Grafana", () => {
  const readYaml = <T>(file: string) => parseYaml(fs.readFileSync(path.join(REPO_ROOT, file), "utf8"), file) as T;
  const mountOf = (service: string, target: string) => mounts(services[service]).find((m) => m.target === target)?.source;
  type Dashboard = {
    uid: string;
    panels: Array<{ title: string; targets: Array<{ expr: string; datasource: { uid: string } }> }>;
  };
  const dashboardDir = mountOf("grafana", "/etc/grafana/dashboards")!;
  const dashboards = fs
    .readdirSync(path.resolve(REPO_ROOT, dashboardDir))
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(path.resolve(REPO_ROOT, dashboardDir, f), "utf8")) as Dashboard);
  const exprs = dashboards.flatMap((d) => d.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, ...t }))));

  test("Prometheus scrapes every app container on the METRICS_PORT it sets, which is never published", () => {
    const config = readYaml<{ scrape_configs: Array<{ metrics_path?: string; static_configs: Array<{ targets: string[] }> }> }>(
      mountOf("prometheus", "/etc/prometheus/prometheus.yml")!,
    );
    expect(commandWords(services.prometheus.command)).toContain("--config.file=/etc/prometheus/prometheus.yml");
    const targets = config.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));
    const expected = appNames.map((name) => {
      const metrics = appConfig(name).metrics;
      expect({ name, metrics }).toEqual({ name, metrics: { port: expect.any(Number), host: "0.0.0.0" } });
      expect(publishedPorts(services[name]).map((p) => p.target)).not.toContain(metrics!.port);
      return `${name}:${metrics!.port}`;
    });
    expect(targets.sort()).toEqual(expected.sort());
    expect(config.scrape_configs.every((job) => (job.metrics_path ?? "/metrics") === "/metrics")).toBe(true);
  });

  test("Grafana is provisioned with that Prometheus and the dashboards folder it mounts", () => {
    const provisioning = mountOf("grafana", "/etc/grafana/provisioning")!;
    const sources = readYaml<{ datasources: Array<{ uid: string; type: string; url: string }> }>(
      `${provisioning}/datasources/prometheus.yml`,
    ).datasources;
    expect(sources).toEqual([expect.objectContaining({ uid: "prometheus", type: "prometheus", url: "http://prometheus:9090" })]);
    const providers = readYaml<{ providers: Array<{ options: { path: string } }> }>(
      `${provisioning}/dashboards/ticketing.yml`,
    ).providers;
    expect(providers.map((p) => p.options.path)).toEqual(["/etc/grafana/dashboards"]);
    expect(exprs.every((t) => t.datasource.uid === "prometheus")).toBe(true);
  });

  test("the flash-sale dashboard shows orders/s, p99 of POST /api/orders, sold per category and runner lag", () => {
    const find = (pattern: RegExp) => exprs.filter((t) => pattern.test(t.expr)).map((t) => t.panel);
    expect(find(/rate\(ticketing_orders_total\[/)).not.toEqual([]);
    expect(
      find(/histogram_quantile\(0\.99, .*ticketing_http_request_duration_seconds_bucket\{method="POST",route="\/api\/orders"\}/),
    ).not.toEqual([]);
    expect(find(/sum by \(category\) \(.*ticketing_tickets_sold_total/)).not.toEqual([]);
    expect(find(/ticketing_runner_lag/)).not.toEqual([]);
  });

  test("every metric a dashboard queries is one the app exports", () => {
    const exported = new Set(
      Object.values(METRICS).flatMap((name) => (name === METRICS.httpDuration ? [`${promName(name)}_bucket`] : [promName(name)])),
    );
    const queried = new Set(exprs.flatMap((t) => t.expr.match(/\bticketing_[a-z0-9_]+/g) ?? []));
    expect(queried.size).toBeGreaterThan(0);
    expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
  });
});

describe("Dockerfile", () => {
  const text = fs.readFileSync(DOCKERFILE, "utf8");
  const stages = dockerfileStages(text);
  const runtime = text.slice(text.search(/^FROM\s+\S+\s+AS\s+runtime\s*$/im));

  test("has the build stages, and compose builds its runtime stage", () => {
    expect(stages).toEqual(expect.arrayContaining(["deps", "build", "runtime"]));
    for (const name of appNames) {
      const build = services[name].build;
      const target = typeof build === "object" ? build.target : undefined;
      expect({ name, target, known: stages.includes(target ?? "") }).toEqual({ name, target, known: true });
    }
  });

  test("the runtime stage runs the compiled entry point as a non-root user in production mode", () => {
    expect(runtime).toMatch(/^ENV NODE_ENV=production$/m);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/bin\/start\.js"\]$/m);
    expect(fs.existsSync(path.join(REPO_ROOT, "bin", "start.ts"))).toBe(true);
    // tsc writes bin/start.ts to dist/bin/start.js only if the build's root is the repository.
    const buildConfig = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "tsconfig.build.json"), "utf8")) as { include: string[] };
    expect(buildConfig.include).toEqual(expect.arrayContaining(["bin", "lib"]));
  });

  test("installs with the lock file and without install scripts (the image's node is used)", () => {
    expect(text).toMatch(/npm ci --ignore-scripts/);
    expect(text).toMatch(/rm -f [^\n]*node_modules\/\.bin\/node/);
    expect(text).toMatch(/install-locked-deps --omit=dev/);
  });

  test(".dockerignore keeps secrets and local state out of the build context", () => {
    const ignored = fs
      .readFileSync(path.join(REPO_ROOT, ".dockerignore"), "utf8")
      .split(/\r?\n/)
      .map((line) => line.trim());
    expect(ignored).toEqual(expect.arrayContaining([".env", "node_modules", "data", ".infra", ".git"]));
  });
});

describe("Kafka", () => {
  const kafkaEnv = serviceEnvironment(services.kafka);
  const props = kafkaServerProperties(kafkaEnv);
  const protocols = Object.fromEntries(props["listener.security.protocol.map"].split(",").map((pair) => pair.split(":")));
  const listeners = parseListeners(props["listeners"]);
  const advertised = parseListeners(props["advertised.listeners"]);
  const listener = (name: string) => listeners.find((l) => l.name === name);

  test("runs as one KRaft node whose internal topics need one replica", () => {
    expect(props["process.roles"]).toBe("broker,controller");
    const controller = listener(props["controller.listener.names"]);
    expect(controller).toBeDefined();
    expect(props["controller.quorum.voters"]).toBe(`${props["node.id"]}@127.0.0.1:${controller!.port}`);
    expect(listener(props["inter.broker.listener.name"])).toBeDefined();
    for (const key of [
      "offsets.topic.replication.factor",
      "transaction.state.log.replication.factor",
      "transaction.state.log.min.isr",
      "share.coordinator.state.topic.replication.factor",
    ]) {
      expect({ key, value: props[key] }).toEqual({ key, value: "1" });
    }
    expect(props["log.dirs"]).toBe("/var/lib/kafka/data");
    expect(mounts(services.kafka).map((m) => m.target)).toContain(props["log.dirs"]);
    expect(kafkaEnv.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  test("every listener has a protocol, and advertises an address of its own", () => {
    for (const l of listeners)
      expect({ name: l.name, protocol: protocols[l.name] }).toEqual({ name: l.name, protocol: expect.any(String) });
    for (const a of advertised) expect(listener(a.name)).toBeDefined();
  });

  test("the app reaches the unauthenticated internal listener that KAFKA_BROKERS names", () => {
    const brokers = appConfig("relay").kafka!.connection!.brokers;
    const internal = advertised.find((a) => `${a.host}:${a.port}` === brokers[0]);
    expect(internal).toBeDefined();
    expect(protocols[internal!.name]).toBe("PLAINTEXT");
    expect(publishedPorts(services.kafka).map((p) => p.target)).not.toContain(internal!.port);
  });

  test("partners log in with SCRAM-SHA-512 on the published listener, advertised where they can reach it", () => {
    const published = publishedPorts(services.kafka);
    const partner = listeners.find((l) => published.some((p) => p.target === l.port));
    expect(partner).toBeDefined();
    expect(protocols[partner!.name]).toMatch(/^SASL_(PLAINTEXT|SSL)$/);
    expect(props["sasl.enabled.mechanisms"].split(",")).toContain("SCRAM-SHA-512");
    const cases: Array<Record<string, string>> = [{}, { KAFKA_PARTNER_HOST: "kafka.example.com", KAFKA_PARTNER_PORT: "19094" }];
    for (const vars of cases) {
      const doc = composeWith(vars);
      const adv = parseListeners(kafkaServerProperties(serviceEnvironment(doc.services.kafka))["advertised.listeners"]);
      const entry = adv.find((a) => a.name === partner!.name)!;
      expect(`${entry.host}:${entry.port}`).toBe(
        `${vars.KAFKA_PARTNER_HOST ?? "localhost"}:${publishedPorts(doc.services.kafka)[0].published}`,
      );
    }
  });

  test("the broker's JAAS file is mounted and holds no credentials", () => {
    const jaasPath = /-Djava\.security\.auth\.login\.config=(\S+)/.exec(kafkaEnv.KAFKA_OPTS)?.[1];
    const mount = mounts(services.kafka).find((m) => m.target === jaasPath);
    expect(mount).toBeDefined();
    const jaas = fs.readFileSync(path.resolve(REPO_ROOT, mount!.source), "utf8");
    expect(jaas).toMatch(/ScramLoginModule required;/);
    expect(jaas).not.toMatch(/\b(username|password|user_\w+)\s*=/i);
  });

  test("partners may only do what ACLs grant; the app's unauthenticated listener is the super user", () => {
    expect(props["authorizer.class.name"]).toBe("org.apache.kafka.metadata.authorizer.StandardAuthorizer");
    expect(props["allow.everyone.if.no.acl.found"]).toBe("false");
    expect(props["super.users"]).toBe("User:ANONYMOUS");
    expect(props["auto.create.topics.enable"]).toBe("false");
  });

  test("kafka-init runs the mounted script and lets partners read the topics the relay writes", () => {
    const init = services["kafka-init"];
    const script = mounts(init).find((m) => commandWords(init.entrypoint).includes(m.target));
    expect(script).toBeDefined();
    const check = spawnSync("bash", ["-n", path.resolve(REPO_ROOT, script!.source)], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
    const env = serviceEnvironment(init);
    expect(env.BOOTSTRAP_SERVER).toBe(appConfig("relay").kafka!.connection!.brokers[0]);
    const [partner] = appConfig("relay").kafka!.partners;
    const kinds = ["organizers", "events", "orders", "refunds", "tickets", "music"] as const;
    expect(env.PARTNER_TOPICS.split(",").sort()).toEqual(kinds.map((k) => partner.topics[k]!.name).sort());
  });
});

describe("Keycloak", () => {
  const keycloak = services.keycloak;
  const kcEnv = serviceEnvironment(keycloak);

  test("imports the realm file at start and reports health on its management port", () => {
    const words = commandWords(keycloak.command);
    expect(words).toContain("--import-realm");
    const realmMount = mounts(keycloak).find((m) => path.resolve(REPO_ROOT, m.source) === REALM_FILE);
    expect(realmMount?.target).toMatch(/^\/opt\/keycloak\/data\/import\/[^/]+\.json$/);
    expect(kcEnv.KC_HEALTH_ENABLED).toBe("true");
    expect(commandWords(keycloak.healthcheck?.test).join(" ")).toMatch(/\/dev\/tcp\/127\.0\.0\.1\/9000.*\/health\/ready/);
  });

  test("every environment placeholder of the realm file is set on the container", () => {
    const placeholders = [...fs.readFileSync(REALM_FILE, "utf8").matchAll(/\$\{([A-Z][A-Z0-9_]*)(?::[^}]*)?\}/g)].map(
      (m) => m[1],
    );
    expect(placeholders.length).toBeGreaterThan(0);
    for (const name of placeholders) expect({ name, set: name in kcEnv }).toEqual({ name, set: true });
  });
});

describe("realm ticketing", () => {
  const { auth } = appConfig("gateway");
  const audience = auth.audience;
  const spaIds = ["ticketing-web", "ticketing-admin-panel"];

  test("has the product's roles, gives every new user `customer`, and issues 5-minute access tokens", () => {
    const roles = (realm.roles as { realm: Array<{ name: string; composites?: { realm?: string[] } }> }).realm;
    expect(roles.map((r) => r.name)).toEqual(expect.arrayContaining([...ROLES]));
    const defaultRole = (realm.defaultRole as { name: string }).name;
    expect(roles.find((r) => r.name === defaultRole)?.composites?.realm).toContain("customer");
    expect(realm.accessTokenLifespan).toBe(300);
  });

  test("the API client is the audience and signs nobody in", () => {
    const api = clientById(audience);
    expect(api).toMatchObject({
      bearerOnly: true,
      publicClient: false,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
    });
  });

  test.each(spaIds)("%s: public client, authorization code with PKCE only", (id) => {
    const client = clientById(id);
    expect(client).toMatchObject({
      publicClient: true,
      standardFlowEnabled: true,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      serviceAccountsEnabled: false,
      attributes: expect.objectContaining({ "pkce.code.challenge.method": "S256" }),
    });
    expect(client!.redirectUris).not.toContain("*");
  });

  test.each(spaIds)("%s: access tokens carry the configured audience, the organizer id and a checker's events", (id) => {
    type Mapper = { protocolMapper: string; config: Record<string, string> };
    const mappers = clientById(id)!.protocolMappers as Mapper[];
    const aud = mappers.filter((m) => m.protocolMapper === "oidc-audience-mapper");
    expect(aud.map((m) => m.config["included.client.audience"] ?? m.config["included.custom.audience"])).toEqual([audience]);
    expect(aud[0].config["access.token.claim"]).toBe("true");
    const organizer = mappers.filter((m) => m.protocolMapper === "oidc-usermodel-attribute-mapper");
    expect(organizer.map((m) => [m.config["user.attribute"], m.config["claim.name"]])).toEqual([
      ["organizer_id", DEFAULT_ORGANIZER_CLAIM],
      ["event_ids", DEFAULT_EVENTS_CLAIM],
    ]);
    expect(organizer[0].config).toMatchObject({ "access.token.claim": "true", "jsonType.label": "String", multivalued: "false" });
    // A list of event ids, emitted as a JSON array even when it holds one.
    expect(organizer[1].config).toMatchObject({ "access.token.claim": "true", "jsonType.label": "String", multivalued: "true" });
  });

  test("only administrators can set a user's organizer_id and event_ids", () => {
    const providers = (realm.components as Record<string, Array<{ config: Record<string, string[]> }>>)[
      "org.keycloak.userprofile.UserProfileProvider"
    ];
    const profile = JSON.parse(providers[0].config["kc.user.profile.config"][0]) as {
      attributes: Array<{ name: string; permissions: { edit: string[] } }>;
    };
    expect(profile.attributes.map((a) => a.name)).toEqual(expect.arrayContaining(["username", "email"]));
    expect(profile.attributes.find((a) => a.name === "organizer_id")?.permissions.edit).toEqual(["admin"]);
    expect(profile.attributes.find((a) => a.name === "event_ids")?.permissions.edit).toEqual(["admin"]);
  });
});

describe("no secrets committed", () => {
  test("compose holds no literal password, secret, token or key", () => {
    expect(secretLiterals(raw, "docker-compose.yml")).toEqual([]);
  });

  test("the realm has no users, no credentials and no client secrets", () => {
    expect(realm.users).toBeUndefined();
    expect(secretLiterals(realm, "realm")).toEqual([]);
    expect(fs.readFileSync(REALM_FILE, "utf8")).not.toMatch(/"credentials"|"secret"/);
  });

  test(".env.example leaves every password, secret and token empty", () => {
    const lines = fs.readFileSync(ENV_EXAMPLE, "utf8").split(/\r?\n/);
    const filled = lines.filter((line) => /^[A-Z0-9_]*(PASSWORD|SECRET|TOKEN|API_KEY)=\S/.test(line));
    expect(filled).toEqual([]);
  });
});
