from paymsg.cli import main

main()
