from itdesk.cli import main

main()
