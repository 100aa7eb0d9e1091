/**
 * The characters of every ID the API takes or hands out: task (workflow), session, batch and
 * tenant IDs. Safe in a URL path, a Temporal visibility query and a Redis key without quoting.
 */
export const ID_PATTERN = /^[A-Za-z0-9:_\-.]{1,128}$/;
