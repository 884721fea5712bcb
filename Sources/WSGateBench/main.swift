print("wsgate-bench")
