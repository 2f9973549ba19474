#compdef eksaudit

_eksaudit_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _EKSAUDIT_COMPLETE=complete_zsh eksaudit)
}

compdef _eksaudit_completion eksaudit
