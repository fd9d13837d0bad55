/** Organizers, artists, venues and events append to this one log, so one runner orders them all. */
export const CATALOGUE_LOG = "catalogue";
