package controlplane

// fakeNodeAnnotation marks the nodes kwok manages (kwok --manage-nodes-with-annotation-selector).
const fakeNodeAnnotation = "kwok.x-k8s.io/node"

// kwokStages is kwok's configuration. It adds one Stage: the ingress controller's part, giving
// each Ingress a load-balancer address. kwok keeps its default node and pod stages because
// this configuration has none of its own for them, so Pods on the fake node go Running and
// Ready and Deployments become Available.
const kwokStages = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ingress-load-balancer
spec:
  resourceRef:
    apiGroup: networking.k8s.io/v1
    kind: Ingress
  selector:
    matchExpressions:
    - key: .status.loadBalancer.ingress
      operator: DoesNotExist
  next:
    statusTemplate: |
      loadBalancer:
        ingress:
        - ip: ` + IngressIP + `
`
