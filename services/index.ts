import type { ServiceSchema } from "moleculer";
import type { Runtime } from "../lib/app/runtime";
import type { ServiceName } from "../lib/config/config";
import apiService from "./api/api.service";
import runnersService from "./runners/runners.service";

export type ServiceFactory = (rt: Runtime) => ServiceSchema;

/** Every service this code base can run, by the name SERVICES uses. */
export const SERVICE_FACTORIES: Partial<Record<ServiceName, ServiceFactory>> = {
  api: apiService,
  runners: runnersService,
};
