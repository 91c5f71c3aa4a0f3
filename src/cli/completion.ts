// `ecmpsim completion bash|zsh`: a shell completion script generated from the command tree, so it
// never lags behind the verbs and options. zsh loads the bash function through bashcompinit.
// Owns the script text only.
import { Argument, type Command } from 'commander';

function words(command: Command): string[] {
  return command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => typeof f === 'string'));
}

export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const verbs = program.commands.map((c) => c.name());
  const cases = program.commands
    .map((c) => {
      const sub = c.commands.map((s) => s.name());
      return `    ${c.name()}) opts="${[...sub, ...words(c), '--help'].join(' ')}" ;;`;
    })
    .join('\n');
  const bash = `# ecmpsim shell completion (${shell}): eval "$(ecmpsim completion ${shell})"
_ecmpsim() {
  local cur verb opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  verb=""
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) verb="$w"; break ;; esac
  done
  if [ -z "$verb" ]; then
    COMPREPLY=( $(compgen -W "${[...verbs, ...words(program), '--help'].join(' ')}" -- "$cur") )
    return 0
  fi
  case "$verb" in
${cases}
    *) opts="" ;;
  esac
  if [[ "$cur" == -* || -n "$opts" ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  fi
  if [ \${#COMPREPLY[@]} -eq 0 ]; then COMPREPLY=( $(compgen -f -- "$cur") ); fi
  return 0
}
complete -o filenames -F _ecmpsim ecmpsim
`;
  return shell === 'bash' ? bash : `autoload -U +X bashcompinit && bashcompinit\n${bash}`;
}

export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: eval "$(ecmpsim completion bash)" (or zsh)')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .action((shell: 'bash' | 'zsh') => {
      process.stdout.write(completionScript(program, shell));
    });
}
