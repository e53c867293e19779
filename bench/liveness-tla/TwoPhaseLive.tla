---- MODULE TwoPhaseLive ----
(* TwoPhase with fairness as pacta's two-phase spec declares it: every action of each        *)
(* process weakly fair (per process and action), every delivery weakly fair (fair delivery). *)
EXTENDS TwoPhase
vars == <<rmState, tmState, tmPrepared, msgs>>
Fairness ==
  /\ WF_vars(TMCommit) /\ WF_vars(TMAbort)
  /\ \A rm \in RM : /\ WF_vars(RMPrepare(rm)) /\ WF_vars(RMChooseToAbort(rm))
                    /\ WF_vars(TMRcvPrepared(rm)) /\ WF_vars(RMRcvCommitMsg(rm)) /\ WF_vars(RMRcvAbortMsg(rm))
LiveSpec == TPSpec /\ Fairness
Termination == <>(\A rm \in RM : rmState[rm] \in {"committed", "aborted"})
====
