/**
 * Runs the steps of a Dockerfile without Docker (no Docker engine runs on these machines), so a
 * test can build the image's contents and start its command. Each stage gets a directory that
 * stands in for its file system; this machine's Node and npm stand in for the base image's.
 * Only the instructions deploy/Dockerfile uses are understood (FROM, WORKDIR, COPY with
 * --from, RUN with cache mounts, ENV, USER, EXPOSE, CMD); anything else is refused, so the
 * Dockerfile cannot grow a step this runner would skip.
 */
import { execSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';

export interface BuiltImage {
  /** The final stage's working directory, as a directory of this machine. */
  workdir: string;
  env: Record<string, string>;
  /** The user the image runs as (this runner cannot switch to it). */
  user?: string;
  cmd: string[];
}

interface Stage {
  name: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  cmd: string[];
}

/** One instruction per entry: comments dropped, continuation lines joined. */
function instructions(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

/**
 * Runs every stage of `dockerfile` with `context` as the build context, in directories under
 * `into`. `log` gets each step as it starts.
 */
export function runDockerfileSteps(
  dockerfile: string,
  context: string,
  into: string,
  log: (line: string) => void = () => {},
): BuiltImage {
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  const inStage = (path: string, from = stage!): string =>
    isAbsolute(path) ? join(from.root, path) : resolve(from.workdir, path);

  for (const line of instructions(readFileSync(dockerfile, 'utf8'))) {
    const [instruction, ...words] = line.split(/\s+/);
    const rest = line.slice(instruction.length).trim();
    log(line);
    if (instruction === 'FROM') {
      const name = words[2] ?? String(stages.length);
      const root = join(into, name);
      mkdirSync(root, { recursive: true });
      stage = { name, root, workdir: root, env: {}, cmd: [] };
      stages.push(stage);
      continue;
    }
    if (!stage) throw new Error(`${line}: before any FROM`);
    switch (instruction) {
      case 'WORKDIR':
        stage.workdir = inStage(rest);
        mkdirSync(stage.workdir, { recursive: true });
        break;
      case 'ENV': {
        const [key, ...value] = rest.split('=');
        stage.env[key] = value.join('=');
        break;
      }
      case 'COPY': {
        const from = words[0].startsWith('--from=')
          ? stages.find((s) => s.name === words[0].slice('--from='.length))
          : undefined;
        const paths = from ? words.slice(1) : words;
        const sources = paths.slice(0, -1);
        const dest = inStage(paths.at(-1)!);
        // Files go into `dest` when it ends in a slash or there are several; else they become it.
        const intoDirectory = paths.at(-1)!.endsWith('/') || sources.length > 1;
        for (const source of sources) {
          const src = from ? inStage(source, from) : resolve(context, source);
          const target =
            intoDirectory && !statSync(src).isDirectory() ? join(dest, basename(src)) : dest;
          cpSync(src, target, { recursive: true });
        }
        break;
      }
      case 'RUN': {
        // A cache mount of npm's cache: one directory per user, kept between runs as BuildKit
        // keeps it between builds.
        const mount = /^--mount=type=cache,target=(\S+)\s+/.exec(rest);
        const command = mount ? rest.slice(mount[0].length) : rest;
        const cache = join(homedir(), '.cache', 'task-control-api', 'image-cache');
        execSync(command, {
          cwd: stage.workdir,
          stdio: ['ignore', 'ignore', 'pipe'],
          env: {
            PATH: process.env.PATH,
            HOME: stage.root,
            ...stage.env,
            ...(mount?.[1] === '/root/.npm' ? { npm_config_cache: cache } : {}),
          },
        });
        break;
      }
      case 'USER':
        stage.user = rest;
        break;
      case 'EXPOSE':
        break;
      case 'CMD':
        stage.cmd = JSON.parse(rest) as string[];
        break;
      default:
        throw new Error(`${instruction}: not understood by deploy/dockerfile-steps.ts`);
    }
  }
  const last = stages.at(-1);
  if (!last) throw new Error(`${dockerfile} has no FROM`);
  return { workdir: last.workdir, env: last.env, user: last.user, cmd: last.cmd };
}
