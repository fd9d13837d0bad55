import { USERS_LOG } from "../../lib/domain/notifications";
import { insertDoc, updateDoc } from "../../lib/domain/read-docs";
import { searchKey } from "../../lib/domain/text";
import type { Projection } from "../../lib/eventlog/projection";
import { deviceViews, registeredUser } from "./users.decider";
import type { UserDoc, UserEvent } from "./users.types";

/** Name, e-mail and phone in one lower-case key: the admins' search is a substring of it. */
function withSearch(doc: UserDoc): UserDoc {
  return { ...doc, search: searchKey([doc.name, doc.email, doc.phone].filter(Boolean).join(" ")) };
}

/** The admins' list of users: profiles without device secrets, searchable by name, e-mail and phone. */
export const usersProjection: Projection<UserDoc> = {
  name: "users.users",
  log: USERS_LOG,
  collection: "users",
  apply: async (recorded, view) => {
    const event = recorded as unknown as UserEvent;
    const { id, at } = event.data;
    const change = (update: (doc: UserDoc) => UserDoc) => updateDoc(view, id, at, (doc) => withSearch(update(doc)));
    switch (event.type) {
      case "UserRegistered":
        return insertDoc(view, withSearch({ ...registeredUser(event.data), _id: id, devices: [], search: "" }));
      case "ProfileUpdated": {
        const { id: _id, at: _at, ...changes } = event.data;
        return change((doc) => ({ ...doc, ...changes }));
      }
      case "DeviceAdded": {
        const [added] = deviceViews({ devices: [event.data.device] });
        return change((doc) => ({ ...doc, devices: [...doc.devices.filter((d) => d.id !== added.id), added] }));
      }
      case "DeviceRemoved":
        return change((doc) => ({ ...doc, devices: doc.devices.filter((d) => d.id !== event.data.deviceId) }));
      case "UserBlocked":
        return change((doc) => ({ ...doc, blocked: { reason: event.data.reason, at } }));
      case "UserUnblocked":
        return change((doc) => ({ ...doc, blocked: null }));
    }
  },
};
